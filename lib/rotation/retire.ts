/**
 * Retirement: which superseded secrets may be removed — the one place that
 * decides it. Removal cannot be undone, so it needs positive evidence:
 *
 * - with trusted sign-in evidence: no sign-in with the key for
 *   RETIRE_QUIET_HOURS after the switch (and RETIRE_GRACE_HOURS passed); any
 *   sign-in within that window vetoes it, whatever the grants' timestamps say;
 * - without: a complete, consistent grant read found no valid grant depending
 *   on it, in two passes running (one read proves nothing), and
 *   RETIRE_GRACE_HOURS have passed since the switch.
 *
 * Otherwise it is left to expire. Expired watchdog-created secrets are cleaned
 * up. Never the connector's secret, never a secret this installation did not
 * create (foreign secrets and other installations' are only ever untracked).
 */
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication, GraphClient } from "../clients/graph.js";
import { isExpired } from "../watch/classify.js";
import { lastUse, type Evidence } from "./evidence.js";
import { FOREIGN, saveKeyRecord, type KeyRecord } from "./records.js";
import { removeKeyWithRetry } from "./rotate.js";

export interface RetirementAction {
  keyId: string;
  action: "remove" | "stop-tracking" | "keep";
  reason: string;
}

export interface RetirementInput {
  app: GraphApplication;
  records: readonly KeyRecord[];
  /** Valid grants inferred to depend on each key (from the grant read). */
  dependents: (keyId: string) => number;
  /** The grant read was complete and consistent. */
  complete: boolean;
  evidence: Evidence;
  now: Date;
  config: Pick<Config["rotation"], "retireGraceHours" | "retireQuietHours">;
}

export function planRetirement(input: RetirementInput): RetirementAction[] {
  const { app, records, evidence, now, config } = input;
  const present = new Set(app.passwordCredentials.map((p) => p.keyId));
  const out: RetirementAction[] = [];
  const keep = (keyId: string, reason: string) => out.push({ keyId, action: "keep", reason });
  for (const r of records) {
    if (r.state !== "superseded") continue;
    const switchedAt = Date.parse(r.supersededAt ?? now.toISOString());
    const sinceSwitch = now.getTime() - switchedAt;
    const use = evidence.mode === "evidence" ? lastUse(r, records, evidence) : null;
    const quietFor = now.getTime() - Math.max(switchedAt, use === null ? 0 : Date.parse(use));
    const dependents = input.dependents(r.keyId);
    const trusted = evidence.mode === "evidence";

    if (r.keyId === FOREIGN || r.origin === "adopted") {
      // Foreign and adopted secrets are never touched; stop tracking once nothing depends on them or they expired.
      const unused = trusted
        ? quietFor >= config.retireQuietHours * HOUR_MS
        : input.complete && dependents === 0 && r.noDependentsSince !== undefined;
      if (isExpired(r.endDateTime, now) || unused)
        out.push({
          keyId: r.keyId,
          action: "stop-tracking",
          reason: isExpired(r.endDateTime, now)
            ? "the earlier secret(s) expired"
            : "no grant depends on the earlier secret(s)",
        });
      continue;
    }
    if (!present.has(r.keyId)) {
      keep(r.keyId, "not listed by this Graph read; a later pass confirms before anything changes");
    } else if (isExpired(r.endDateTime, now)) {
      out.push({ keyId: r.keyId, action: "remove", reason: "expired (watchdog-created, superseded)" });
    } else if (trusted && quietFor < config.retireQuietHours * HOUR_MS) {
      keep(
        r.keyId,
        use !== null && Date.parse(use) > switchedAt
          ? `Entra saw it sign in at ${use}: in use (RETIRE_QUIET_HOURS ${config.retireQuietHours} h of quiet needed)`
          : `quiet for ${Math.floor(quietFor / HOUR_MS)} h of the ${config.retireQuietHours} h (RETIRE_QUIET_HOURS) needed`,
      );
    } else if (!trusted && dependents > 0) {
      keep(r.keyId, `${dependents} valid grant(s) still depend on it`);
    } else if (sinceSwitch < config.retireGraceHours * HOUR_MS) {
      keep(r.keyId, `within RETIRE_GRACE_HOURS (${config.retireGraceHours} h) of the switch`);
    } else if (!input.complete) {
      keep(r.keyId, "the grant list could not be read completely and consistently this pass");
    } else if (!trusted && r.noDependentsSince === undefined) {
      keep(r.keyId, "no valid grant depends on it; a second pass confirms before it is removed");
    } else {
      out.push({
        keyId: r.keyId,
        action: "remove",
        reason: trusted
          ? `Entra reports no sign-in with it for ${Math.floor(quietFor / HOUR_MS)} h since the switch`
          : "superseded, no valid grant depends on it in two passes, grace period over",
      });
    }
  }
  return out;
}

export async function executeRetirement(
  app: GraphApplication,
  records: readonly KeyRecord[],
  actions: readonly RetirementAction[],
  deps: { store: StateStore; graph: GraphClient; clock: Clock; logger: Logger },
): Promise<string[]> {
  const byId = new Map(records.map((r) => [r.keyId, r]));
  const removed: string[] = [];
  const now = deps.clock.now().toISOString();
  for (const action of actions) {
    const record = byId.get(action.keyId);
    if (record === undefined || action.action === "keep") continue;
    if (action.action === "remove") {
      deps.logger.info(`retirement: removing secret ${action.keyId}: ${action.reason}`);
      if (!(await removeKeyWithRetry(deps.graph, app.id, action.keyId, deps))) continue;
      removed.push(action.keyId);
    }
    await saveKeyRecord(deps.store, { ...record, state: "removed", removedAt: now });
  }
  return removed;
}
