/**
 * One fetch wrapper for every remote call the SDKs do not make for us (the Nylas
 * connector PATCH, alert sinks): a timeout per attempt, bounded retries with
 * back-off, `Retry-After` honoured up to a cap, and failures turned into HttpError.
 */
import { HttpError, type Service } from "../errors.js";
import type { Clock } from "../clock.js";
import { policyOf, withRetry, type RetryPolicy, type TransientPredicate } from "./retry.js";

export { DEFAULT_RETRY, type RetryPolicy } from "./retry.js";

/** Plain HTTP: this wrapper's own default cap (a sink's wait stays as it was), under the module's 60 s. */
const HTTP_RETRY: Partial<RetryPolicy> = { maxDelayMs: 30_000 };

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
   * Which failures are worth another attempt (the service's predicate in
   * retry.ts). Default: 429, 502, 503, 504, and for idempotent requests also
   * 500 and network errors.
   */
  transient?: TransientPredicate;
  /**
   * Whether repeating the request is harmless. Non-idempotent requests are not
   * retried after a timeout or reset, because the first may have taken effect.
   */
  idempotent?: boolean;
  abort?: AbortSignal;
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

const isTransientHttp: TransientPredicate = (error, idempotent) =>
  [429, 502, 503, 504].includes(error.statusCode) ||
  (idempotent && (error.statusCode === 500 || error.statusCode === 0));

/** Parses Retry-After (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function requestIdOf(headers: Headers): string | undefined {
  return (
    headers.get("request-id") ?? headers.get("x-request-id") ?? headers.get("x-ms-request-id") ?? undefined
  );
}

/** One attempt: resolves with a 2xx response, throws HttpError for anything else. */
async function attemptOnce(
  request: HttpRequest,
  deps: HttpDeps,
  attempt: number,
  maxAttempts: number,
): Promise<HttpResponse> {
  const shownUrl = safeUrl(request.url, { hostOnly: request.secretUrl ?? false });
  // Not a back-off wait: a per-attempt deadline, so a hung endpoint costs one timeout, not a pass.
  const timeout = AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const abort = request.abort ? AbortSignal.any([request.abort, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    const doFetch = deps.fetch ?? fetch;
    response = await doFetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: abort,
    });
    text = await response.text();
  } catch (cause) {
    if (request.abort?.aborted) throw cause;
    throw new HttpError(
      `${request.service}: ${request.method} ${shownUrl} ${timeout.aborted ? "timed out" : "failed to connect or was reset"}` +
        ` (attempt ${attempt} of ${maxAttempts}). Check that the endpoint is reachable.`,
      { service: request.service, statusCode: 0, ambiguous: request.method !== "GET", cause },
    );
  }
  const requestId = requestIdOf(response.headers);
  if (response.status >= 200 && response.status < 300) {
    return { status: response.status, headers: response.headers, text, requestId };
  }
  throw new HttpError(
    `${request.service}: ${request.method} ${shownUrl} answered ${response.status}` +
      (attempt > 1 ? ` after ${attempt} attempts` : "") +
      ".",
    {
      service: request.service,
      statusCode: response.status,
      requestId,
      body: text,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), deps.clock.now().getTime()),
      ambiguous: response.status >= 500,
    },
  );
}

/**
 * Sends the request, retrying as the policy allows. Resolves with any 2xx
 * response; throws HttpError for everything else, after the last attempt.
 */
export async function httpRequest(request: HttpRequest, deps: HttpDeps): Promise<HttpResponse> {
  const policy = policyOf({ policy: { ...HTTP_RETRY, ...request.retry } });
  const maxAttempts = policy.maxAttempts;
  const idempotent =
    request.idempotent ??
    (request.method === "GET" || request.method === "PUT" || request.method === "DELETE");
  return withRetry((attempt) => attemptOnce(request, deps, attempt, maxAttempts), {
    idempotent,
    transient: request.transient ?? isTransientHttp,
    policy,
    sleep: (ms, abort) => deps.clock.sleep(ms, abort),
    ...(request.abort ? { abort: request.abort } : {}),
  });
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
