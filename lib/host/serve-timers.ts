/**
 * The timer triggers of `watchdog serve`, each on the NCRONTAB schedule its
 * declared app setting holds (croner reads the same 6-field syntax), in UTC as
 * in Azure.
 */
import type { Timer } from "@azure/functions";
import { Cron } from "croner";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { errorMessage } from "../errors.js";
import { IN_UTC } from "../utc-schedule.js";
import { contextFor } from "./invocation-context.js";
import { SCHEDULE_SETTINGS, type TimerTrigger, type TriggerDescriptor } from "./trigger.js";

export interface RunningTimers {
  /** No further runs start. */
  stop(): void;
  /** Runs in progress: close() lets them finish before it closes the state store under them. */
  running: Set<Promise<void>>;
}

const NOT_PAST_DUE = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer;

export function startTimers(
  triggers: readonly TriggerDescriptor[],
  config: Config,
  logger: Logger,
): RunningTimers {
  const jobs: Cron[] = [];
  const running = new Set<Promise<void>>();
  const timers = triggers.filter((t): t is TimerTrigger => t.kind === "timer");
  for (const timer of timers) {
    const schedule = SCHEDULE_SETTINGS[timer.scheduleSetting](config);
    const job = new Cron(schedule, { protect: true, ...IN_UTC }, () => {
      const run = (async () => {
        try {
          await timer.handler(NOT_PAST_DUE, contextFor(timer.name, logger));
        } catch (error) {
          // A timer that throws is a failed run, as in Azure; the next schedule tries again.
          logger.error(`[${timer.name}] failed: ${errorMessage(error)}`);
        }
      })();
      running.add(run);
      void run.finally(() => running.delete(run));
      return run;
    });
    jobs.push(job);
    logger.info(`serve: ${timer.name} on "${schedule}", next run ${job.nextRun()?.toISOString() ?? "never"}`);
  }
  return {
    stop: () => {
      for (const job of jobs) job.stop();
    },
    running,
  };
}
