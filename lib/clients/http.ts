/**
 * One fetch wrapper for every remote call the SDKs do not make for us (the Nylas
 * connector PATCH, alert sinks): a timeout per attempt, bounded retries with
 * back-off, `Retry-After` honoured up to a cap, and failures turned into HttpError.
 */
import { HttpError, type Service } from "../errors.js";
import type { Clock } from "../clock.js";

export interface RetryPolicy {
  /** Total attempts, first included. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Cap on any single wait, Retry-After included: a service asking for an hour does not stall a pass. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

export interface HttpRequest {
  service: Service;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Per attempt. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Which statuses are worth another attempt. Default: 429, 502, 503, 504 — and
   * for idempotent methods also 500 and network errors.
   */
  retryOn?: (status: number) => boolean;
  /**
   * Whether repeating the request is harmless. Non-idempotent requests are not
   * retried after a timeout or reset, because the first may have taken effect.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** The URL itself is a credential (Slack/Teams webhook URLs): errors name its host only. */
  secretUrl?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  requestId: string | undefined;
}

export interface HttpDeps {
  clock: Clock;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** Parses Retry-After (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function backoff(attempt: number, policy: RetryPolicy): number {
  const exp = policy.baseDelayMs * 2 ** (attempt - 1);
  // Full jitter keeps many watchdogs from retrying in lock-step.
  return Math.min(policy.maxDelayMs, exp / 2 + Math.random() * (exp / 2));
}

function requestIdOf(headers: Headers): string | undefined {
  return (
    headers.get("request-id") ?? headers.get("x-request-id") ?? headers.get("x-ms-request-id") ?? undefined
  );
}

/**
 * Sends the request, retrying as the policy allows. Resolves with any 2xx
 * response; throws HttpError for everything else, after the last attempt.
 */
export async function httpRequest(request: HttpRequest, deps: HttpDeps): Promise<HttpResponse> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...request.retry };
  const doFetch = deps.fetch ?? fetch;
  const idempotent =
    request.idempotent ??
    (request.method === "GET" || request.method === "PUT" || request.method === "DELETE");
  const retryOn =
    request.retryOn ??
    ((s: number) => s === 429 || s === 502 || s === 503 || s === 504 || (idempotent && s === 500));

  const shownUrl = safeUrl(request.url, { hostOnly: request.secretUrl ?? false });
  for (let attempt = 1; ; attempt++) {
    const timeout = AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
      });
      text = await response.text();
    } catch (cause) {
      if (request.signal?.aborted) throw cause;
      const timedOut = timeout.aborted;
      const error = new HttpError(
        `${request.service}: ${request.method} ${shownUrl} ${timedOut ? "timed out" : "failed to connect or was reset"}` +
          ` (attempt ${attempt} of ${policy.maxAttempts}). Check that the endpoint is reachable.`,
        { service: request.service, statusCode: 0, ambiguous: request.method !== "GET", cause },
      );
      if (attempt < policy.maxAttempts && idempotent) {
        await deps.clock.sleep(backoff(attempt, policy), request.signal);
        continue;
      }
      throw error;
    }

    if (response.status >= 200 && response.status < 300) {
      return {
        status: response.status,
        headers: response.headers,
        text,
        requestId: requestIdOf(response.headers),
      };
    }

    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), deps.clock.now().getTime());
    if (attempt < policy.maxAttempts && retryOn(response.status)) {
      await deps.clock.sleep(
        Math.min(policy.maxDelayMs, retryAfterMs ?? backoff(attempt, policy)),
        request.signal,
      );
      continue;
    }
    throw new HttpError(
      `${request.service}: ${request.method} ${shownUrl} answered ${response.status}` +
        (attempt > 1 ? ` after ${attempt} attempts` : "") +
        ".",
      {
        service: request.service,
        statusCode: response.status,
        requestId: requestIdOf(response.headers),
        body: text,
        retryAfterMs,
        ambiguous: response.status >= 500,
      },
    );
  }
}

/**
 * A URL fit for a log line: scheme, host and path only. Webhook URLs of Slack,
 * Teams and others carry their credential in the path or query, so sink URLs
 * are reduced to the host.
 */
export function safeUrl(url: string, options: { hostOnly?: boolean } = {}): string {
  try {
    const u = new URL(url);
    return options.hostOnly ? `${u.protocol}//${u.host}/…` : `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
