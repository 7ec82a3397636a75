/**
 * Retry for SDK calls that do not retry themselves (the Nylas SDK has no retry
 * at all). The caller converts the SDK's error into an HttpError first; this
 * decides from its status and Retry-After whether to try again.
 */
import { HttpError } from "../errors.js";
import type { Clock } from "../clock.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./http.js";

/**
 * Nylas's rate-limit error types (its API reference's error types): recognised
 * by type as well as by 429, since a gateway in between may rewrite the status.
 */
const RATE_LIMIT_TYPES = new Set(["rate_limit_error", "nylas_rate_limit_exceeded"]);

/** Statuses (and rate-limit types) worth another attempt for a read or an idempotent write. */
export function isTransient(error: HttpError): boolean {
  return (
    error.statusCode === 0 ||
    error.statusCode === 429 ||
    error.statusCode === 503 ||
    error.statusCode === 504 ||
    error.statusCode === 502 ||
    RATE_LIMIT_TYPES.has(error.code ?? "")
  );
}

export async function withRetry<T>(
  call: () => Promise<T>,
  options: { clock: Clock; policy?: Partial<RetryPolicy>; retryable?: (error: HttpError) => boolean },
): Promise<T> {
  const policy = { ...DEFAULT_RETRY, ...options.policy };
  const retryable = options.retryable ?? isTransient;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof HttpError) || attempt >= policy.maxAttempts || !retryable(error)) throw error;
      const exp = policy.baseDelayMs * 2 ** (attempt - 1);
      const wait = Math.min(policy.maxDelayMs, error.retryAfterMs ?? exp / 2 + Math.random() * (exp / 2));
      await options.clock.sleep(wait);
    }
  }
}
