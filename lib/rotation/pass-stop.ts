/**
 * A pass stopping early, at a step boundary, and what it says about why. The
 * host kills a pass at its functionTimeout wherever it is; stopping on our own
 * first, between steps, keeps every step whole (each rotation step is made
 * crash-safe by its durable record; a step never started needs no recovery).
 *
 * A pass stops when its deadline has passed (or leaves too little for the next
 * step), or when a step failed after one of its calls gave up on a service that
 * kept failing transiently (a 429, a 503, no answer): a throttled service is not
 * a bug, and the next pass resumes where this one stopped. Any other failure is
 * thrown as before, so the platform's failure alerts fire.
 */
import type { Service } from "../errors.js";
import type { GaveUp, PassDeadline, Throttle } from "../clients/retry.js";
import type { PassStop } from "./pass-record.js";

/** How on-call knows each service. */
const SERVICE_NAMES: Record<Service, string> = {
  entra: "Microsoft Entra ID",
  graph: "Microsoft Graph",
  nylas: "Nylas",
  webhook: "the alert webhook",
  slack: "Slack",
  teams: "Microsoft Teams",
  pagerduty: "PagerDuty",
  state: "the state store",
};

/** Thrown at a step boundary; the pass catches it and ends there (exit 3). */
export class PassStopped extends Error {
  override name = "PassStopped";

  constructor(
    readonly stop: PassStop,
    options?: { cause?: unknown },
  ) {
    super(stop.reason, options);
  }
}

const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

/** "Microsoft Entra ID kept answering 429 (Retry-After 3600 s)" */
function kept(throttle: Throttle): string {
  const who = throttle.service === undefined ? "a service" : SERVICE_NAMES[throttle.service];
  const what =
    throttle.statusCode === undefined
      ? "kept throttling"
      : throttle.statusCode === 0
        ? "kept failing to answer"
        : `kept answering ${throttle.statusCode}`;
  const after =
    throttle.retryAfterMs === undefined ? "" : ` (Retry-After ${seconds(throttle.retryAfterMs)} s)`;
  return `${who} ${what}${after}`;
}

function stopOf(step: string, at: Date, reason: string, throttle: Throttle | undefined): PassStop {
  return {
    step,
    at: at.toISOString(),
    reason,
    ...(throttle?.service !== undefined ? { service: throttle.service } : {}),
    ...(throttle?.statusCode !== undefined ? { statusCode: throttle.statusCode } : {}),
    ...(throttle?.retryAfterMs !== undefined ? { retryAfterSeconds: seconds(throttle.retryAfterMs) } : {}),
  };
}

/** A step failed after a call gave up on `gaveUp.service`. */
export function gaveUpStop(step: string, gaveUp: GaveUp, at: Date): PassStop {
  const refused =
    gaveUp.refusedWaitMs === undefined
      ? ""
      : `, and waiting ${seconds(gaveUp.refusedWaitMs)} s more would run past this pass's deadline`;
  return stopOf(step, at, `stopped at ${step}: ${kept(gaveUp)}${refused}; the next pass resumes`, gaveUp);
}

/**
 * Not started: less than `needMs` is left before the deadline. Names the
 * service the pass waited on longest, when it waited on one.
 */
export function outOfTimeStop(step: string, deadline: PassDeadline, needMs: number, at: Date): PassStop {
  const longest = deadline.longestWait();
  const left = deadline.remainingMs();
  const why =
    left <= 0 ? "this pass's deadline has passed" : `${seconds(left)} s left before this pass's deadline`;
  const need = needMs > 0 ? `, and ${step} may take ${seconds(needMs)} s` : "";
  const waited = longest === undefined ? "" : ` after ${seconds(longest.ms)} s of waits: ${kept(longest)}`;
  return stopOf(step, at, `stopped before ${step}: ${why}${need}${waited}; the next pass resumes`, longest);
}

/** The stop due unless `needMs` (0: any time at all) is left before the deadline. */
export function timeStop(
  step: string,
  deadline: PassDeadline | undefined,
  needMs: number,
  at: Date,
): PassStop | undefined {
  if (deadline === undefined) return undefined;
  const left = deadline.remainingMs();
  return left <= 0 || left < needMs ? outOfTimeStop(step, deadline, needMs, at) : undefined;
}

/** Throws PassStopped unless `needMs` (0: any time at all) is left before the deadline. */
export function stopUnlessTimeFor(
  step: string,
  deadline: PassDeadline | undefined,
  needMs: number,
  at: Date,
): void {
  const stop = timeStop(step, deadline, needMs, at);
  if (stop !== undefined) throw new PassStopped(stop);
}

/**
 * Runs one step of a pass: not started once the deadline has passed; a failure
 * after one of its calls gave up on a service becomes a stop naming it.
 */
export async function passStep<T>(
  step: string,
  deadline: PassDeadline,
  now: () => Date,
  work: () => Promise<T>,
): Promise<T> {
  stopUnlessTimeFor(step, deadline, 0, now());
  const mark = deadline.gaveUpCount;
  try {
    return await work();
  } catch (error) {
    if (error instanceof PassStopped) throw error;
    const gaveUp = deadline.gaveUpSince(mark).at(-1);
    if (gaveUp === undefined) throw error;
    throw new PassStopped(gaveUpStop(step, gaveUp, now()), { cause: error });
  }
}
