/**
 * One self-check: doctor's unattended checks as the deployed identity, their `setup.broken:<check>`
 * incidents raised, kept or resolved (self-check-signals.ts decides), and the record health shows.
 * Loaded only when a self-check is due (self-check.ts), so passes that are not pay nothing for
 * doctor's checks.
 */
import type { Deps } from "../deps.js";
import { CHECK_IDS, type CheckId } from "../doctor/check.js";
import { runUnattendedChecks } from "../doctor/run-unattended.js";
import { planSelfCheck, setupBrokenKey, type FailingCheck } from "./self-check-signals.js";
import { writeSelfCheck, type SelfCheckReason, type SelfCheckRecord } from "./self-check-record.js";

export type SelfCheckPorts = Pick<
  Deps,
  "config" | "clock" | "logger" | "nylas" | "graph" | "store" | "incidents"
>;

export interface SelfCheckOptions {
  deployment: string;
  reason: SelfCheckReason;
  /** How long to wait for the alerts to go out (the outbox retries the rest later). */
  deadlineMs?: number;
}

const DEFAULT_DEADLINE_MS = 10_000;

type OpenIncidents = Map<CheckId, Omit<FailingCheck, "id">>;

/** Every check's open `setup.broken` incident, including checks this self-check no longer runs. */
async function openIncidents(incidents: Awaited<ReturnType<Deps["incidents"]>>): Promise<OpenIncidents> {
  const open: OpenIncidents = new Map();
  for (const id of CHECK_IDS) {
    const incident = await incidents.get(setupBrokenKey(id));
    if (incident?.status === "firing")
      open.set(id, {
        severity: incident.severity,
        summary: incident.summary,
        fix: incident.remediation.join("\n"),
      });
  }
  return open;
}

export async function runSelfCheck(
  ports: SelfCheckPorts,
  options: SelfCheckOptions,
): Promise<SelfCheckRecord> {
  const startedAt = ports.clock.now().toISOString();
  const { results, identity } = await runUnattendedChecks(ports);
  const incidents = await ports.incidents();
  const ctx = { deployment: options.deployment, identity };
  const plan = planSelfCheck(results, await openIncidents(incidents), ctx);
  let changed = false;
  for (const signal of plan.raise) changed = (await incidents.raise(signal)).notified !== null || changed;
  for (const { key, note } of plan.resolve)
    changed = (await incidents.resolve(key, note)) !== undefined || changed;

  const record: SelfCheckRecord = {
    v: 1,
    startedAt,
    checkedAt: ports.clock.now().toISOString(),
    deployment: options.deployment,
    reason: options.reason,
    identity,
    checks: results.map((r) => ({ id: r.id, status: r.status, summary: r.summary })),
    failing: plan.failing,
    complete: results.every((r) => r.status !== "unknown"),
  };
  // Written last: a self-check that failed half-way is due again at the next pass.
  await writeSelfCheck(await ports.store(), record);
  const unknown = results.filter((r) => r.status === "unknown").map((r) => r.id);
  ports.logger.info(
    `self-check (${options.reason}, ${options.deployment}): ${plan.failing.length === 0 ? "setup ok" : `failing ${plan.failing.map((f) => f.id).join(", ")}`}${unknown.length > 0 ? `; could not run ${unknown.join(", ")} (tried again next pass)` : ""}.`,
  );
  if (changed) await incidents.deliver({ deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS });
  return record;
}
