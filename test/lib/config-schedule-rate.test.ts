/**
 * WATCHDOG_SCHEDULE and GRANT_SWEEP_SCHEDULE fire at most once a minute: a pass every few seconds
 * would hammer Graph, Nylas and the state store. Judged from the runs the schedule makes, so every
 * spelling of "more than once a minute" is refused and once a minute itself is not.
 */
import { describe, expect, it } from "vitest";
import { base, problemsOf } from "../helpers/config-problems.js";
import { loadConfig } from "../../lib/config.js";

describe("a schedule that fires more often than once a minute", () => {
  it.each([
    ["* * * * * *", 1],
    ["*/10 * * * * *", 10],
    ["0,30 * * * * *", 30],
    // One burst a day, but a run every second inside it.
    ["* 0 3 * * *", 1],
    // Twice in minutes 0, 5, 10 …: 59 s apart, short of a minute.
    ["0,59 */5 * * * *", 59],
    ["15-16 0 0 1 1 *", 1],
  ])("%s is refused for both timers, with the gap and the fix", (schedule, gapSeconds) => {
    const problems = problemsOf({ ...base, WATCHDOG_SCHEDULE: schedule, GRANT_SWEEP_SCHEDULE: schedule });
    expect(problems.map((p) => p.setting).sort()).toEqual(["GRANT_SWEEP_SCHEDULE", "WATCHDOG_SCHEDULE"]);
    for (const p of problems) {
      expect(p.problem).toBe(
        `"${schedule}" fires more often than once a minute (runs ${gapSeconds} s apart).`,
      );
      expect(p.fix).toMatch(/one value in the seconds field/);
      expect(p.fix).toContain("https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer");
    }
  });

  it.each(["0 * * * * *", "30 */5 * * * *", "0 0 */6 * * *", "0 */30 * * * *", "59 59 23 31 12 *"])(
    "%s (at most once a minute) is accepted",
    (schedule) => {
      const config = loadConfig({ ...base, WATCHDOG_SCHEDULE: schedule, GRANT_SWEEP_SCHEDULE: schedule });
      expect(config.schedules).toEqual({ watchdog: schedule, grantSweep: schedule });
    },
  );

  it("still names the syntax mistake, not the rate, for a schedule that does not parse", () => {
    const [problem] = problemsOf({ ...base, WATCHDOG_SCHEDULE: "*/5 * * * *" });
    expect(problem!.problem).toMatch(/5-field Unix cron/);
    expect(problem!.fix).toMatch(/6-field NCRONTAB/);
  });
});
