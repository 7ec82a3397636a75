/**
 * A watchdog pass's exit code with its cause: "exit 1" alone tells a reader
 * nothing, and the alerts of the pass may be about something else (a resolve)
 * while an older incident keeps the exit at 1.
 */
import type { Deps } from "../deps.js";
import type { WatchdogPassResult } from "../watchdog-pass.js";

/** "exit N" and why, on one line for 0 and 3, with one line per cause for 1. */
export async function explainPassExit(
  result: WatchdogPassResult,
  incidents: Deps["incidents"],
): Promise<string> {
  if (result.exitCode === 3) return `exit 3 (${result.rotation.decision}): ${result.rotation.reason}`;
  if (result.exitCode === 0)
    return "exit 0: nothing is expired or within ALERT_BEFORE_DAYS, no critical incident open";
  const causes: string[] = [];
  for await (const incident of (await incidents()).open())
    if (incident.severity === "critical")
      causes.push(`${incident.key} is open and critical: ${incident.summary}`);
  for (const problem of result.scan.problems) causes.push(`${problem.message}`);
  // Sorted: the store lists incidents in no particular order.
  causes.sort();
  if (causes.length === 0)
    causes.push("a secret something depends on is expired or within ALERT_BEFORE_DAYS");
  return `exit 1, because:\n${causes.map((c) => `  - ${c}`).join("\n")}`;
}
