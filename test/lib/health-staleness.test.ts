/**
 * The staleness rule: degraded when a timer's last successful finish is older than twice its
 * schedule's interval, or when it never finished a pass in two intervals since the deployment
 * started; a fresh deployment gets those two intervals.
 */
import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../lib/clock.js";
import { judgeStaleness, scheduleIntervalMs, type TimerRun } from "../../lib/health/staleness.js";
import { inTimeZone } from "../helpers/time-zone.js";

const NOW = new Date(Date.UTC(2026, 10, 23, 12, 7, 0)); // a Monday
const MIN = 60_000;
const SCHEDULES = { watchdog: "0 0 */6 * * *", grantSweep: "0 */30 * * * *" };

const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const run = (finishedAgoMs: number, tookMs = MIN): TimerRun => ({
  startedAt: ago(finishedAgoMs + tookMs),
  finishedAt: ago(finishedAgoMs),
});

interface Row {
  name: string;
  watchdog?: TimerRun;
  sweep?: TimerRun;
  startedAgoMs: number;
  schedules?: { watchdog: string; grantSweep: string };
  status: "ok" | "degraded";
  states: [string, string];
  reason?: RegExp;
}

const ROWS: Row[] = [
  {
    name: "both fresh",
    watchdog: run(5 * HOUR_MS),
    sweep: run(10 * MIN),
    startedAgoMs: DAY_MS,
    status: "ok",
    states: ["fresh", "fresh"],
  },
  {
    name: "exactly at the limit is still fresh",
    watchdog: run(12 * HOUR_MS),
    sweep: run(60 * MIN),
    startedAgoMs: DAY_MS,
    status: "ok",
    states: ["fresh", "fresh"],
  },
  {
    name: "the watch pass stopped two intervals ago (and a minute)",
    watchdog: run(12 * HOUR_MS + MIN),
    sweep: run(10 * MIN),
    startedAgoMs: DAY_MS,
    status: "degraded",
    states: ["stale", "fresh"],
    reason: /^secretWatchdog last finished a pass 12 hours ago .*"0 0 \*\/6 \* \* \*" allows 12 hours/,
  },
  {
    name: "the last sweep is four months old",
    watchdog: run(HOUR_MS),
    sweep: run(120 * DAY_MS),
    startedAgoMs: 200 * DAY_MS,
    status: "degraded",
    states: ["fresh", "stale"],
    reason: /^grantSweep last finished a pass 120 days ago/,
  },
  {
    name: "a fresh deployment, no pass yet",
    startedAgoMs: 5 * MIN,
    status: "ok",
    states: ["pending", "pending"],
  },
  {
    name: "no pass ever ran, two intervals after start",
    startedAgoMs: 12 * HOUR_MS + MIN,
    status: "degraded",
    states: ["never-ran", "never-ran"],
    reason: /^secretWatchdog has not finished a pass since .* \(12 hours ago; .* allows 12 hours\)/,
  },
  {
    name: "the sweep ran for a week, the watch pass never: the process start is not what dates the deployment",
    sweep: run(10 * MIN, 7 * DAY_MS),
    startedAgoMs: 0,
    status: "degraded",
    states: ["never-ran", "fresh"],
    reason: /^secretWatchdog has not finished a pass since .* \(7 days ago/,
  },
  {
    name: "a weekday schedule is judged by its longest gap (the weekend), not its shortest",
    schedules: { watchdog: "0 0 9 * * 1-5", grantSweep: "0 */30 * * * *" },
    watchdog: run(3 * DAY_MS + 3 * HOUR_MS), // last Friday 09:00, now Monday 12:07
    sweep: run(MIN),
    startedAgoMs: 30 * DAY_MS,
    status: "ok",
    states: ["fresh", "fresh"],
  },
  {
    name: "a record with no readable finish counts as none (and dates nothing)",
    watchdog: { startedAt: "garbage", finishedAt: "" },
    sweep: run(MIN),
    startedAgoMs: 0,
    status: "ok",
    states: ["pending", "fresh"],
  },
];

describe("judgeStaleness", () => {
  it.each(ROWS)("$name → $status", (row) => {
    const verdict = judgeStaleness({
      runs: { secretWatchdog: row.watchdog, grantSweep: row.sweep },
      schedules: row.schedules ?? SCHEDULES,
      now: NOW,
      startedAt: new Date(NOW.getTime() - row.startedAgoMs),
    });
    expect(verdict.status).toBe(row.status);
    expect([verdict.timers.secretWatchdog.state, verdict.timers.grantSweep.state]).toEqual(row.states);
    if (row.status === "ok") expect(verdict.reasons).toEqual([]);
    else expect(verdict.reasons[0]).toMatch(row.reason!);
  });

  it("reports each timer's schedule, interval, limit, last success and age", () => {
    const verdict = judgeStaleness({
      runs: { secretWatchdog: run(20 * MIN), grantSweep: undefined },
      schedules: SCHEDULES,
      now: NOW,
      startedAt: new Date(NOW.getTime() - MIN),
    });
    expect(verdict.timers).toEqual({
      secretWatchdog: {
        schedule: SCHEDULES.watchdog,
        intervalMs: 6 * HOUR_MS,
        limitMs: 12 * HOUR_MS,
        lastSuccess: ago(20 * MIN),
        ageMs: 20 * MIN,
        state: "fresh",
      },
      grantSweep: {
        schedule: SCHEDULES.grantSweep,
        intervalMs: 30 * MIN,
        limitMs: 60 * MIN,
        lastSuccess: null,
        ageMs: null,
        state: "pending",
      },
    });
  });
});

describe("scheduleIntervalMs", () => {
  it.each([
    ["0 */30 * * * *", 30 * MIN],
    ["0 0 */6 * * *", 6 * HOUR_MS],
    // The fastest schedule loadConfig accepts (a faster one is refused: lib/config/fields.ts).
    ["0 * * * * *", MIN],
    ["0 0 9 * * 1-5", 3 * DAY_MS],
  ])("%s → %d ms", (pattern, ms) => {
    expect(scheduleIntervalMs(pattern, NOW)).toBe(ms);
  });

  it("reads the schedule in UTC, whatever the machine's time zone", () => {
    // New York leaves daylight saving time on 1 November 2026: read in its local time, "every day
    // at noon" would have one day of 25 hours.
    const interval = inTimeZone("America/New_York", () =>
      scheduleIntervalMs("0 0 12 * * *", new Date(Date.UTC(2026, 9, 25))),
    );
    expect(interval).toBe(DAY_MS);
  });
});
