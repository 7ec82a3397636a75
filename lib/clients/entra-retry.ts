/**
 * The one retry policy applied to the watchdog's own Entra token requests.
 * @azure/identity retries by itself (3 times, 5 for a managed identity) and
 * honours any Retry-After uncapped: an Entra 429 with Retry-After: 3600 held a
 * pass for an hour. The credentials are built with the SDK's retries off
 * (credential.ts) and retried here instead, with Entra's predicate and every
 * wait capped by retry.ts.
 */
import type { AccessToken, GetTokenOptions, TokenCredential, TokenCredentialOptions } from "@azure/identity";
import { HttpError } from "../errors.js";
import { parseRetryAfter } from "./http.js";
import { isTransientEntra, withRetry, type WaitOptions } from "./retry.js";

type AdditionalPolicy = NonNullable<TokenCredentialOptions["additionalPolicies"]>[number];
type PipelinePolicy = AdditionalPolicy["policy"];
type PipelineResponse = Awaited<ReturnType<PipelinePolicy["sendRequest"]>>;

/** Token requests change nothing at Entra: safe to repeat. */
const TOKEN_RETRY = { idempotent: true, transient: isTransientEntra } as const;

/** What retry.ts sees of an Entra answer or failure; `cause` is what the SDK gets back if retries run out. */
function entraError(statusCode: number, cause: unknown, retryAfterMs?: number): HttpError {
  return new HttpError(`entra: token request failed (${statusCode || "no answer"})`, {
    service: "entra",
    statusCode,
    retryAfterMs,
    cause,
  });
}

/**
 * A pipeline policy for credentials that take `additionalPolicies` (client
 * secret): it sees Entra's HTTP answer, so Retry-After (seconds or a date) is
 * honoured, capped. When the retries run out the SDK gets the last answer (or
 * network error) exactly as it would have, and reports it as it always did.
 */
export function entraRetryPolicy(options: WaitOptions & { now?: () => number }): AdditionalPolicy {
  const now = options.now ?? Date.now;
  const policy: PipelinePolicy = {
    name: "watchdogEntraRetry",
    sendRequest: async (request, next) => {
      // The SDK passes a DOM AbortSignal under its structural AbortSignalLike type.
      const signal = (request.abortSignal as AbortSignal | undefined) ?? options.abort;
      try {
        return await withRetry(
          async () => {
            let response: PipelineResponse;
            try {
              response = await next(request);
            } catch (cause) {
              if (signal?.aborted) throw cause;
              throw entraError(0, cause);
            }
            const error = entraError(
              response.status,
              response,
              parseRetryAfter(response.headers.get("retry-after") ?? null, now()),
            );
            if (isTransientEntra(error, true)) throw error;
            return response;
          },
          { ...options, ...TOKEN_RETRY, ...(signal ? { abort: signal } : {}) },
        );
      } catch (error) {
        if (!(error instanceof HttpError) || error.cause === undefined) throw error;
        // A last transient answer is still an answer: hand it to the SDK as a response.
        if (error.statusCode !== 0) return error.cause as PipelineResponse;
        throw error.cause as Error;
      }
    },
  };
  return { policy, position: "perCall" };
}

/**
 * For credentials that drop `additionalPolicies` (a managed identity inside
 * DefaultAzureCredential): retries `getToken` on the status identity's error
 * carries. No Retry-After is visible at this level, so the wait is back-off.
 */
export function retryingCredential(inner: TokenCredential, options: WaitOptions): TokenCredential {
  return {
    async getToken(
      scopes: string | string[],
      getTokenOptions?: GetTokenOptions,
    ): Promise<AccessToken | null> {
      try {
        return await withRetry(
          async () => {
            try {
              return await inner.getToken(scopes, getTokenOptions);
            } catch (cause) {
              const status = (cause as { statusCode?: unknown }).statusCode;
              throw entraError(typeof status === "number" ? status : -1, cause);
            }
          },
          { ...options, ...TOKEN_RETRY },
        );
      } catch (error) {
        throw error instanceof HttpError && error.cause !== undefined ? error.cause : error;
      }
    },
  };
}
