/**
 * The `watchdog.stale` incident: raised by whichever caller still runs (a health probe, `watchdog
 * health`, the timer that is not stuck) when the staleness rule says degraded, resolved once every
 * timer has a fresh pass again. Stopped timers cannot report themselves, hence here.
 */
import type { Deps } from "../deps.js";
import type { Signal } from "../incidents/incident.js";
import { judgeStaleness, type Staleness, type TimerRun } from "./staleness.js";

export const STALE_KEY = "watchdog.stale";

export interface StalenessPorts extends Pick<Deps, "store" | "incidents" | "clock"> {
  config: Pick<Deps["config"], "schedules">;
  /** When this process started; absent: now (only older run records then date the deployment). */
  startedAt?: Date;
}

export interface ReportOptions {
  /** Delivery of the raise or resolve: in the background (an HTTP answer), or awaited (a CLI, a timer). */
  background?: boolean;
  /** How long the caller waits for that delivery. */
  deadlineMs?: number;
}

const DEFAULT_DEADLINE_MS = 10_000;

/** The rule, on the run records as stored now. */
export async function readStaleness(ports: StalenessPorts): Promise<Staleness> {
  const store = await ports.store();
  const [watchdog, sweep] = await Promise.all([
    store.get<TimerRun>("runs", "secretWatchdog"),
    store.get<TimerRun>("runs", "grantSweep"),
  ]);
  const now = ports.clock.now();
  return judgeStaleness({
    runs: { secretWatchdog: watchdog?.value, grantSweep: sweep?.value },
    schedules: ports.config.schedules,
    now,
    startedAt: ports.startedAt ?? now,
  });
}

/**
 * Raises `watchdog.stale` when degraded; resolves it only when every timer has a fresh pass — not
 * when one merely has not had time to run, so callers that started at different times never flap it.
 * `judged`: a verdict the caller already has (health reads the records once).
 */
export async function reportStaleness(
  ports: StalenessPorts,
  judged?: Staleness,
  options: ReportOptions = {},
): Promise<Staleness> {
  const verdict = judged ?? (await readStaleness(ports));
  const incidents = await ports.incidents();
  let changed = false;
  if (verdict.status === "degraded") {
    changed = (await incidents.raise(staleSignal(verdict))).notified !== null;
  } else if (Object.values(verdict.timers).every((t) => t.state === "fresh")) {
    changed =
      (await incidents.resolve(STALE_KEY, "Every timer has finished a pass recently again.")) !== undefined;
  }
  if (changed) {
    const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    if (options.background === true) await incidents.deliver({ background: true, deadlineMs });
    else await incidents.deliver({ deadlineMs });
  }
  return verdict;
}

/** Details hold no age: an unchanged stale state must not rewrite the incident at every probe. */
export function staleSignal(verdict: Staleness): Signal {
  const stale = Object.entries(verdict.timers).filter(
    ([, t]) => t.state === "stale" || t.state === "never-ran",
  );
  const details: Signal["details"] = {};
  for (const [name, t] of stale) {
    details[`${name}_last_success`] = t.lastSuccess;
    details[`${name}_schedule`] = t.schedule;
    details[`${name}_limit_ms`] = t.limitMs;
  }
  return {
    key: STALE_KEY,
    kind: "watchdog.stale",
    severity: "critical",
    summary: `The watchdog has stopped: no recent pass of ${stale.map(([name]) => name).join(" or ")}. Secrets may expire unwatched.`,
    details,
    remediation: [
      "Check that the Function App is running and its timer functions are enabled (Azure portal → Function App → Functions); look at their last invocations' errors.",
      "Run 'watchdog doctor': a refused Azure or Nylas credential makes every pass fail before it records anything.",
      "Run 'watchdog run' once by hand; the incident resolves when both timers have finished a pass again.",
    ],
    links: [],
  };
}
