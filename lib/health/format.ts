/** `watchdog health`'s text and exit code: the same report `/api/health` answers, for a terminal. */
import type { HealthReport } from "../health.js";
import { TIMERS, human, type TimerHealth } from "./staleness.js";

/** The `--json` document's schema: versioned, so automation can tell a shape change. */
export const HEALTH_SCHEMA = "secret-watchdog.health/v1";

/** 1 only when degraded, as the HTTP answer is 503 only then: an open incident has its own alerts. */
export function healthExitCode(report: HealthReport): 0 | 1 {
  return report.status === "degraded" ? 1 : 0;
}

export function formatHealthText(report: HealthReport): string {
  const width = Math.max(...TIMERS.map((name) => name.length));
  const lines = [`Health: ${report.status.toUpperCase()} (checked ${report.checkedAt})`, ""];
  for (const name of TIMERS)
    lines.push(`  ${name.padEnd(width)}  ${timerLine(report.staleness.timers[name])}`);
  if (report.staleness.reasons.length > 0) {
    lines.push("", "Degraded because:");
    for (const reason of report.staleness.reasons) lines.push(`  - ${reason}`);
  }
  lines.push("", `Open incidents: ${report.openIncidentCount}`);
  for (const i of report.openIncidents.slice(0, 10)) lines.push(`  ${i.severity.padEnd(8)}  ${i.key}`);
  if (report.openIncidentCount > 10)
    lines.push(`  … and ${report.openIncidentCount - 10} more (--json lists 50)`);
  return `${lines.join("\n")}\n`;
}

function timerLine(t: TimerHealth): string {
  const limit =
    t.limitMs === null ? "no limit: the schedule does not fire twice" : `limit ${human(t.limitMs)}`;
  const state = t.state === "fresh" ? "ok" : t.state.toUpperCase();
  if (t.lastSuccess === null) return `${state.padEnd(9)}  no pass recorded (${limit})`;
  return `${state.padEnd(9)}  last success ${t.lastSuccess}, ${human(Math.max(0, t.ageMs ?? 0))} ago (${limit})`;
}
