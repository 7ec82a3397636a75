/**
 * The one retry policy of every remote call the watchdog makes: bounded
 * attempts, exponential back-off with jitter, Retry-After (already parsed into
 * `HttpError.retryAfterMs`) honoured but capped, so a service asking for an
 * hour never holds a pass for more than `maxDelayMs` per wait. Which failures
 * are worth another attempt is decided per service below, in one place.
 *
 * A caller says only whether its call is idempotent. A call that is not is
 * never replayed blindly: it is repeated only after an answer proving the
 * service did not act on it (a throttle), or after the caller's `reconcile`
 * has read back and cleaned up what an ambiguous attempt may have done.
 *
 * Every back-off wait of the product goes through `sleep` here, injected (a
 * Clock's), so tests assert the wait requested, never wall time.
 *
 * Within a pass, waits also obey the pass's deadline (`PassDeadline`): the host
 * kills a pass at its functionTimeout however short each wait was, so a wait
 * that would end past the deadline is not started, and the call gives up at
 * once with its last error, as if its attempts had run out.
 */
import { HttpError, type Service } from "../errors.js";
import { currentDeadline, type Throttle } from "./pass-deadline.js";

export { PassDeadline, currentDeadline, type GaveUp, type Throttle } from "./pass-deadline.js";

/** A Clock's sleep: waits `ms`, or rejects when `abort` fires. */
export type Sleep = (ms: number, abort?: AbortSignal) => Promise<void>;

export interface RetryPolicy {
  /** Total attempts, first included. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Cap on any single wait, Retry-After included: a service asking for an hour does not stall a pass. */
  maxDelayMs: number;
}

/** The default cap on a single wait. */
export const MAX_WAIT_MS = 60_000;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: MAX_WAIT_MS };

/** Whether `error` is worth another attempt of a call that is (or is not) safe to repeat. */
export type TransientPredicate = (error: HttpError, idempotent: boolean) => boolean;

/**
 * Graph: throttling (429) and "concurrent requests being made to the tenant"
 * (409, or 400 with that text; Infisical treats it as transient too) mean the
 * request was not processed, so even a write may be sent again. Timeouts and
 * 5xx may follow a write that took effect: only reads are repeated on those.
 * (This replaces the Graph SDK's RetryHandler, which waited up to 180 s per
 * retry on its own timer.)
 */
export const isTransientGraph: TransientPredicate = (error, idempotent) => {
  // No token for Graph: the credential already retried its token call with the Entra predicate.
  if (error.service === "entra") return false;
  if (error.statusCode === 429 || isGraphConcurrencyError(error)) return true;
  return idempotent && [0, 500, 502, 503, 504].includes(error.statusCode);
};

export function isGraphConcurrencyError(error: HttpError): boolean {
  return error.statusCode === 409 || /concurrent requests/i.test(error.message);
}

/** The Entra token endpoint: a token request changes nothing, so every transient answer is retried. */
export const isTransientEntra: TransientPredicate = (error) =>
  [0, 429, 500, 502, 503, 504].includes(error.statusCode);

/**
 * Nylas's rate-limit error types (its API reference's error types): recognised
 * by type as well as by 429, since a gateway in between may rewrite the status.
 */
const NYLAS_RATE_LIMIT_TYPES = new Set(["rate_limit_error", "nylas_rate_limit_exceeded"]);

export const isTransientNylas: TransientPredicate = (error) =>
  [0, 429, 502, 503, 504].includes(error.statusCode) || NYLAS_RATE_LIMIT_TYPES.has(error.code ?? "");

/**
 * Alert sinks: 408, 429 and 5xx mean the sink did not take the message. A
 * repeated chat message is better than a lost alert, so these are retried even
 * for sinks that are not idempotent; a lost answer (status 0) is not.
 */
export const isTransientSink: TransientPredicate = (error) =>
  error.statusCode === 408 || error.statusCode === 429 || error.statusCode >= 500;

/** Nylas's predicate for a read (the name the Nylas client and its tests have used). */
export function isTransient(error: HttpError): boolean {
  return isTransientNylas(error, true);
}

function throttleOf(error: HttpError | undefined, cause: WaitCause, retryAfterMs?: number): Throttle {
  return {
    service: error?.service ?? cause.service,
    statusCode: error?.statusCode,
    retryAfterMs: error?.retryAfterMs ?? retryAfterMs,
  };
}

export interface WaitOptions {
  sleep: Sleep;
  policy?: Partial<RetryPolicy>;
  /** Test seam for the jitter; Math.random by default. */
  random?: () => number;
  abort?: AbortSignal;
}

export interface RetryOptions extends WaitOptions {
  /** Whether repeating the call is harmless (a read, a PUT of a whole document, a delete that may find nothing). */
  idempotent: boolean;
  transient: TransientPredicate;
  /**
   * For a call that is not idempotent: after an answer that leaves open whether
   * it took effect (`HttpError.ambiguous`), read back and undo or adopt what it
   * may have done; the call is repeated only after this resolves.
   */
  reconcile?: (error: HttpError) => Promise<void>;
  /** Told before each wait (for a log line). */
  onRetry?: (event: { attempt: number; waitMs: number; error: HttpError }) => void;
}

/**
 * How long to wait before attempt `attempt + 1`: the service's Retry-After when
 * it gave one, else exponential back-off with jitter in [exp/2, exp] (so many
 * watchdogs do not retry in lock-step); never more than `maxDelayMs`.
 */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) {
    return Math.min(Math.max(0, retryAfterMs), policy.maxDelayMs);
  }
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return exp / 2 + random() * (exp / 2);
}

/** What the wait is for: the failure it follows, or at least the service that failed. */
export interface WaitCause {
  /** Thrown as is when the pass's deadline refuses the wait: the caller sees its last answer. */
  error?: HttpError;
  service?: Service;
}

/**
 * Waits before the next attempt as the policy says; returns the wait (for
 * callers that report it). Within a pass, a wait that would end past its
 * deadline is refused: `cause.error` (or a plain Error) is thrown instead.
 */
export async function waitToRetry(
  attempt: number,
  retryAfterMs: number | undefined,
  options: WaitOptions & WaitCause & { onWait?: (waitMs: number) => void },
): Promise<number> {
  const waitMs = retryDelayMs(attempt, retryAfterMs, policyOf(options), options.random);
  const deadline = currentDeadline();
  const throttle = throttleOf(options.error, options, retryAfterMs);
  if (deadline !== undefined && waitMs > deadline.remainingMs()) {
    deadline.noteGaveUp({ ...throttle, refusedWaitMs: waitMs });
    throw (
      options.error ??
      new Error(
        `${options.service ?? "a service"}: no time left in this pass to wait ${Math.ceil(waitMs / 1000)} s before trying again; the next pass does.`,
      )
    );
  }
  options.onWait?.(waitMs);
  deadline?.noteWait(throttle, waitMs);
  await options.sleep(waitMs, options.abort);
  return waitMs;
}

/**
 * A wait that is pacing, not back-off (polling at a chosen rate): still capped,
 * so no caller can hold a pass longer than the cap in one wait.
 */
export async function pace(sleep: Sleep, ms: number, abort?: AbortSignal): Promise<void> {
  await sleep(Math.min(Math.max(0, ms), MAX_WAIT_MS), abort);
}

export function policyOf(options: { policy?: Partial<RetryPolicy> }): RetryPolicy {
  return { ...DEFAULT_RETRY, ...options.policy };
}

/** What to do after a failed attempt: give up, repeat as is, or reconcile first. */
function nextStep(error: unknown, options: RetryOptions): "throw" | "repeat" | "reconcile" {
  if (!(error instanceof HttpError)) return "throw";
  // No answer at all: a call that is not idempotent may have taken effect.
  const answered = options.idempotent || error.statusCode !== 0;
  if (answered && options.transient(error, options.idempotent)) return "repeat";
  if (!options.idempotent && error.ambiguous && options.reconcile !== undefined) return "reconcile";
  return "throw";
}

/**
 * Runs `call` until it succeeds, fails for good, or runs out of attempts.
 * Only HttpError is retried; anything else is a bug or a refusal and goes straight up.
 */
export async function withRetry<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = policyOf(options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const step = nextStep(error, options);
      if (step === "throw") throw error;
      const httpError = error as HttpError;
      if (attempt >= policy.maxAttempts) {
        if (step === "repeat") currentDeadline()?.noteGaveUp(throttleOf(httpError, {}));
        throw error;
      }
      await waitToRetry(attempt, httpError.retryAfterMs, {
        ...options,
        error: httpError,
        onWait: (waitMs) => options.onRetry?.({ attempt, waitMs, error: httpError }),
      });
      if (step === "reconcile") await options.reconcile?.(httpError);
    }
  }
}
