/**
 * Schedules read in UTC, as the hosts run NCRONTAB timers.
 *
 * `utcOffset: 0` rather than `timezone: "UTC"`: the runs are the same, but with a time zone croner
 * reads every date through Intl.DateTimeFormat, whose first use loads ICU's time-zone data: about
 * 28 ms of the first schedule a process reads (2026-12-02), and the Function App's cold start reads
 * both (its app settings set them). croner 11 takes a numeric offset as UTC arithmetic, no Intl.
 */
import { Cron } from "croner";

/** croner's option for reading a schedule in UTC. */
export const IN_UTC = { utcOffset: 0 } as const;

/** Runs a schedule's longest gap is judged over: enough to see a weekend in a weekday schedule. */
const FIRINGS = 48;

/**
 * The longest gap between consecutive runs over a schedule's next FIRINGS runs after `from`, in
 * ms; null when it runs fewer than twice. Throws croner's error when the pattern does not parse.
 */
export function longestGapMs(pattern: string, from: Date): number | null {
  const runs = new Cron(pattern, { paused: true, ...IN_UTC }).nextRuns(FIRINGS, from);
  let gap = 0;
  for (let i = 1; i < runs.length; i++) gap = Math.max(gap, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return runs.length < 2 ? null : gap;
}
