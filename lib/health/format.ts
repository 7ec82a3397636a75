/** `watchdog health`'s text and exit code: the same report `/api/health` answers, for a terminal. */
import type { HealthReport, SelfCheckView } from "../health.js";
import { TIMERS, human, type TimerHealth } from "./staleness.js";
import { STALE_KEY, staleSignal } from "./stale-incident.js";
import { setupBrokenKey } from "./self-check-signals.js";

/** The `--json` document's schema: versioned, so automation can tell a shape change. */
export const HEALTH_SCHEMA = "secret-watchdog.health/v1";

/** 1 only when degraded, as the HTTP answer is 503 only then: an open incident has its own alerts. */
export function healthExitCode(report: HealthReport): 0 | 1 {
  return report.status === "degraded" ? 1 : 0;
}

/**
 * What the timers and the self-check say is wrong, each with what to do: the `problems` of `--json`
 * (open incidents are listed apart, in `openIncidents`).
 */
export interface HealthProblem {
  code: string;
  message: string;
  fix: string;
}

export function healthProblems(report: HealthReport): HealthProblem[] {
  const problems: HealthProblem[] = [];
  if (report.staleness.reasons.length > 0) {
    const fix = staleSignal(report.staleness).remediation.join("\n");
    for (const message of report.staleness.reasons) problems.push({ code: STALE_KEY, message, fix });
  }
  for (const f of report.selfCheck?.failing ?? [])
    problems.push({ code: setupBrokenKey(f.id), message: f.summary, fix: f.fix });
  return problems;
}

export function formatHealthText(report: HealthReport): string {
  const width = Math.max(...TIMERS.map((name) => name.length));
  const lines = [`Health: ${report.status.toUpperCase()} (checked ${report.checkedAt})`, ""];
  for (const name of TIMERS)
    lines.push(`  ${name.padEnd(width)}  ${timerLine(report.staleness.timers[name])}`);
  const critical = (report.selfCheck?.failing ?? []).filter((f) => f.severity === "critical");
  const reasons = [
    ...report.staleness.reasons,
    ...critical.map((f) => `${setupBrokenKey(f.id)}: ${f.summary}`),
  ];
  if (reasons.length > 0) {
    lines.push("", "Degraded because:");
    for (const reason of reasons) lines.push(`  - ${reason}`);
  }
  lines.push("", ...selfCheckLines(report.selfCheck));
  lines.push("", `Open incidents: ${report.openIncidentCount}`);
  for (const i of report.openIncidents.slice(0, 10)) lines.push(`  ${i.severity.padEnd(8)}  ${i.key}`);
  if (report.openIncidentCount > 10)
    lines.push(`  … and ${report.openIncidentCount - 10} more (--json lists 50)`);
  return `${lines.join("\n")}\n`;
}

function selfCheckLines(view: SelfCheckView | undefined): string[] {
  if (view === undefined)
    return [
      "Self-check: none yet (the watchdog timer runs it on its first pass after a deployment, then daily)",
    ];
  const as = view.identity?.objectId ? ` as object id ${view.identity.objectId}` : "";
  const lines = [`Self-check: ${view.checkedAt}${as} (${view.deployment})`];
  if (view.failing.length === 0) lines.push("  setup ok");
  for (const f of view.failing) lines.push(`  ${f.severity.padEnd(8)}  ${setupBrokenKey(f.id)}`);
  if (view.warnings.length > 0)
    lines.push(`  warnings: ${view.warnings.join(", ")} (watchdog doctor explains)`);
  if (view.unknown.length > 0)
    lines.push(`  could not run: ${view.unknown.join(", ")} (tried again at the next pass)`);
  return lines;
}

function timerLine(t: TimerHealth): string {
  const limit =
    t.limitMs === null ? "no limit: the schedule does not fire twice" : `limit ${human(t.limitMs)}`;
  const state = t.state === "fresh" ? "ok" : t.state.toUpperCase();
  if (t.lastSuccess === null) return `${state.padEnd(9)}  no pass recorded (${limit})`;
  return `${state.padEnd(9)}  last success ${t.lastSuccess}, ${human(Math.max(0, t.ageMs ?? 0))} ago (${limit})`;
}
