/**
 * Whether the timers still run: the one rule `/api/health`, `watchdog health`
 * and the `watchdog.stale` incident share. A pure function of the run records,
 * the schedules, now and when this process started.
 *
 * A pass that fails (Graph or Nylas refusing the watchdog's credentials
 * included) throws before it writes its record, so "could not authenticate"
 * shows here as a record that stops getting newer: the staleness rule covers it.
 */
import { DAY_MS, HOUR_MS } from "../clock.js";
import type { Config } from "../config.js";
import { longestGapMs } from "../utc-schedule.js";

export type TimerName = "secretWatchdog" | "grantSweep";

/** What the rule reads of a run record (`runs/<timer>`): written only when a pass finishes. */
export interface TimerRun {
  startedAt: string;
  finishedAt: string;
}

export interface StalenessInput {
  runs: Record<TimerName, TimerRun | undefined>;
  schedules: Config["schedules"];
  now: Date;
  /** When this process started: a fresh deployment is given two intervals before "never ran" counts. */
  startedAt: Date;
}

export interface TimerHealth {
  schedule: string;
  /** The longest gap between two firings of the schedule (null: it does not fire twice). */
  intervalMs: number | null;
  /** Twice the interval: a last success older than this is stale. */
  limitMs: number | null;
  /** When its last pass finished (ISO 8601), or null when none is recorded. */
  lastSuccess: string | null;
  ageMs: number | null;
  /** pending: no pass yet, but within two intervals of the start. */
  state: "fresh" | "pending" | "stale" | "never-ran";
}

export interface Staleness {
  status: "ok" | "degraded";
  /** One line per stale timer; empty when ok. */
  reasons: string[];
  timers: Record<TimerName, TimerHealth>;
}

export const TIMERS: readonly TimerName[] = ["secretWatchdog", "grantSweep"];

const SCHEDULE_OF: Record<TimerName, keyof Config["schedules"]> = {
  secretWatchdog: "watchdog",
  grantSweep: "grantSweep",
};

/**
 * The longest gap between consecutive firings over the next 48 (lib/utc-schedule.ts), in UTC as the
 * hosts run them: the longest, so a schedule that skips weekends is not stale every Monday morning.
 */
export function scheduleIntervalMs(pattern: string, from: Date): number | null {
  return longestGapMs(pattern, from);
}

export function judgeStaleness(input: StalenessInput): Staleness {
  const since = deploymentStart(input);
  const timers = {} as Record<TimerName, TimerHealth>;
  const reasons: string[] = [];
  for (const name of TIMERS) {
    const judged = judgeTimer(name, input, since);
    timers[name] = judged.health;
    if (judged.reason !== undefined) reasons.push(judged.reason);
  }
  return { status: reasons.length > 0 ? "degraded" : "ok", reasons, timers };
}

/**
 * The earliest evidence that this deployment runs: the process start, or an older pass of either timer
 * (a sweep that has run for months while the watch pass never did is not a fresh deployment).
 */
function deploymentStart({ runs, startedAt }: StalenessInput): number {
  let since = startedAt.getTime();
  for (const name of TIMERS) {
    const at = Date.parse(runs[name]?.startedAt ?? "");
    if (!Number.isNaN(at)) since = Math.min(since, at);
  }
  return since;
}

function judgeTimer(
  name: TimerName,
  { runs, schedules, now }: StalenessInput,
  since: number,
): { health: TimerHealth; reason?: string } {
  const schedule = schedules[SCHEDULE_OF[name]];
  const intervalMs = scheduleIntervalMs(schedule, now);
  const limitMs = intervalMs === null ? null : 2 * intervalMs;
  const finished = Date.parse(runs[name]?.finishedAt ?? "");
  const base = { schedule, intervalMs, limitMs };
  if (Number.isNaN(finished)) {
    const waited = now.getTime() - since;
    if (limitMs === null || waited <= limitMs)
      return { health: { ...base, lastSuccess: null, ageMs: null, state: "pending" } };
    return {
      health: { ...base, lastSuccess: null, ageMs: null, state: "never-ran" },
      reason: `${name} has not finished a pass since ${new Date(since).toISOString()} (${human(waited)} ago; its schedule "${schedule}" allows ${human(limitMs)}).`,
    };
  }
  const ageMs = now.getTime() - finished;
  const health = { ...base, lastSuccess: new Date(finished).toISOString(), ageMs };
  if (limitMs === null || ageMs <= limitMs) return { health: { ...health, state: "fresh" } };
  return {
    health: { ...health, state: "stale" },
    reason: `${name} last finished a pass ${human(ageMs)} ago (${health.lastSuccess}); its schedule "${schedule}" allows ${human(limitMs)}.`,
  };
}

const UNITS: readonly [string, number][] = [
  ["day", DAY_MS],
  ["hour", HOUR_MS],
  ["minute", 60_000],
];

/** A duration as on-call reads it: "12 hours", "1 day", "3.5 days". */
export function human(ms: number): string {
  const [unit, size] = UNITS.find(([, size]) => ms >= size) ?? ["second", 1000];
  // Tenths for days and hours (3.5 days), whole minutes and seconds.
  const value = size >= HOUR_MS ? Math.round((ms / size) * 10) / 10 : Math.round(ms / size);
  return `${value} ${unit}${value === 1 ? "" : "s"}`;
}
