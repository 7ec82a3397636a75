/**
 * THE self-check → incident decision: which `setup.broken:<check>` incidents a self-check raises,
 * keeps and resolves, and their words. Pure: the runner (self-check-run.ts) reads and acts.
 *
 * - fail → raised, with the check's fix.
 * - warn → never opens one (a warning is doctor's "look at this", and a deployment that cannot tell
 *   something — WEBHOOK_PUBLIC_URL unset — is not broken), but refreshes an open one with today's
 *   words: app.permission warns while a granted role waits for the next token, and rotation still
 *   cannot work until then.
 * - pass → resolved, the note saying what is true now.
 * - skip, unknown → left as they are: a check that could not run is no evidence either way.
 */
import type { Severity, Signal } from "../incidents/incident.js";
import type { CheckId } from "../doctor/check.js";
import type { UnattendedResult } from "../doctor/run-unattended.js";

export const SETUP_BROKEN = "setup.broken";

export function setupBrokenKey(id: CheckId): string {
  return `${SETUP_BROKEN}:${id}`;
}

/**
 * Critical: without these the watchdog cannot read or rotate the connector's secret at all, so the
 * secret would expire unwatched (the same stake as `watchdog.stale`). Every other check finds
 * something that hurts sign-ins or alerts but leaves rotation working: a warning.
 */
const ROTATION_NEEDS: ReadonlySet<CheckId> = new Set<CheckId>([
  "nylas.region",
  "connector.present",
  "app.found",
  "app.permission",
]);

export function setupSeverity(result: Pick<UnattendedResult, "id" | "status">): Severity {
  return result.status === "fail" && ROTATION_NEEDS.has(result.id) ? "critical" : "warning";
}

export interface SelfCheckContext {
  deployment: string;
  identity: { objectId: string | null; appId: string | null } | null;
}

export function setupBrokenSignal(result: UnattendedResult, ctx: SelfCheckContext): Signal {
  const remediation = (result.fix ?? "Run `watchdog doctor` for the steps.").split("\n");
  if (result.source !== undefined) remediation.push(`Where this advice comes from: ${result.source}.`);
  remediation.push(
    "The watchdog checks its setup again at least daily and on the first pass after each deployment; this incident resolves when the check passes.",
  );
  return {
    key: setupBrokenKey(result.id),
    kind: SETUP_BROKEN,
    severity: setupSeverity(result),
    summary: `Self-check ${result.id} (${result.title}): ${result.summary}`,
    // No time in the details: an unchanged finding must not rewrite the incident every day.
    details: {
      check: result.id,
      status: result.status,
      deployment: ctx.deployment,
      identity_object_id: ctx.identity?.objectId ?? null,
      identity_app_id: ctx.identity?.appId ?? null,
    },
    remediation,
    links: [],
  };
}

/** An open `setup.broken` incident, as the self-check record and health show it. */
export interface FailingCheck {
  id: CheckId;
  severity: Severity;
  summary: string;
  /** The steps, one per line. */
  fix: string;
}

export interface SelfCheckPlan {
  raise: Signal[];
  resolve: { key: string; note: string }[];
  /** The incidents open once the plan is carried out. */
  failing: FailingCheck[];
}

/**
 * `open`: the checks whose `setup.broken` incident is open now, with its severity (kept as is when
 * the check cannot tell this time).
 */
export function planSelfCheck(
  results: readonly UnattendedResult[],
  open: ReadonlyMap<CheckId, Omit<FailingCheck, "id">>,
  ctx: SelfCheckContext,
): SelfCheckPlan {
  const plan: SelfCheckPlan = { raise: [], resolve: [], failing: [] };
  for (const result of results) {
    const current = open.get(result.id);
    if (result.status === "fail" || (result.status === "warn" && current !== undefined)) {
      const signal = setupBrokenSignal(result, ctx);
      plan.raise.push(signal);
      plan.failing.push({
        id: result.id,
        severity: signal.severity,
        summary: signal.summary,
        fix: signal.remediation.join("\n"),
      });
    } else if (result.status === "pass" && current !== undefined) {
      plan.resolve.push({
        key: setupBrokenKey(result.id),
        note: `The self-check passes ${result.id} again: ${result.summary}`,
      });
    } else if (current !== undefined) {
      plan.failing.push({ id: result.id, ...current });
    }
  }
  const ran = new Set(results.map((r) => r.id));
  for (const id of open.keys()) {
    if (!ran.has(id))
      plan.resolve.push({
        key: setupBrokenKey(id),
        note: `The self-check no longer runs ${id} unattended, so it no longer reports on it; run \`watchdog doctor\` to check it by hand.`,
      });
  }
  return plan;
}
