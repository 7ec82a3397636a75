/**
 * Many app registrations by application id through Graph's `$batch`, 20 per
 * request. Each sub-request is throttled on its own, so a throttled
 * sub-response is retried alone, after its Retry-After (capped by the one
 * retry policy); the `$batch` POST itself is a read and retried as one.
 */
import * as z from "zod/mini";
import { HttpError } from "../errors.js";
import type { Logger } from "../logger.js";
import { malformedAnswer, parseAnswer } from "./answer.js";
import { toGraphHttpError } from "./graph-errors.js";
import { parseApplication } from "./graph-schemas.js";
import { CREDENTIAL_SELECT, MAX_BATCH, type BatchedRead } from "./graph-types.js";
import { isTransientGraph, waitToRetry, type RetryPolicy, type Sleep } from "./retry.js";

const Batch = z.object({
  responses: z.array(
    z.object({
      id: z.string(),
      status: z.number(),
      headers: z.optional(z.record(z.string(), z.string())),
      body: z.optional(z.unknown()),
    }),
  ),
});
type BatchResponse = z.output<typeof Batch>;
type SubResponse = BatchResponse["responses"][number];

export interface BatchDeps {
  /** POSTs a `$batch` body (retried as a read by the caller) and returns Graph's answer. */
  post: (body: { requests: { id: string; method: string; url: string }[] }) => Promise<unknown>;
  sleep: Sleep;
  logger: Logger;
  policy: RetryPolicy;
}

function subError(response: SubResponse, appId: string): HttpError {
  return toGraphHttpError(
    {
      statusCode: response.status,
      code: (response.body as { error?: { code?: string } } | undefined)?.error?.code,
      body: JSON.stringify(response.body ?? {}),
      message: `status ${response.status}`,
      headers: new Headers(response.headers ?? {}),
    },
    `reading application ${appId} ($batch)`,
  );
}

/** A 200 sub-response: the app it carries, or — malformed, or about another app — the error. */
function readOne(body: unknown, appId: string, select: readonly string[]): BatchedRead {
  try {
    return { appId, app: parseApplication(body, select, `reading application ${appId} ($batch)`, appId) };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { appId, app: undefined, error };
  }
}

/** Sorts one round's answers: reads done (to yield) and reads to retry, with the longest Retry-After asked. */
function sortRound(
  batch: BatchResponse,
  pending: readonly string[],
  retryAllowed: boolean,
  select: readonly string[],
): { done: BatchedRead[]; retry: string[]; retryAfterMs: number | undefined } {
  const done: BatchedRead[] = [];
  const retry: string[] = [];
  let retryAfterMs: number | undefined;
  for (const response of batch.responses) {
    const appId = pending[Number(response.id)];
    if (appId === undefined) continue;
    if (response.status === 200) {
      done.push(readOne(response.body, appId, select));
    } else if (response.status === 404) {
      done.push({ appId, app: undefined });
    } else {
      const error = subError(response, appId);
      if (retryAllowed && isTransientGraph(error, true)) {
        retry.push(appId);
        if (error.retryAfterMs !== undefined) retryAfterMs = Math.max(retryAfterMs ?? 0, error.retryAfterMs);
      } else {
        done.push({ appId, app: undefined, error });
      }
    }
  }
  // An id Graph did not answer for is not "read": it would otherwise vanish from the scan unwatched.
  const answered = new Set(batch.responses.map((r) => pending[Number(r.id)]));
  for (const appId of pending.filter((id) => !answered.has(id)))
    done.push({ appId, app: undefined, error: unanswered(appId) });
  return { done, retry, retryAfterMs };
}

function unanswered(appId: string): HttpError {
  return malformedAnswer("graph", `reading application ${appId} ($batch)`, "no sub-response answers it");
}

/**
 * Yields every requested id once: with the app, with undefined when the tenant
 * has no such app, or with the error when it could not be read (refused, or
 * still throttled after the retries) — one app that cannot be read never stops
 * the others.
 */
export async function* readApplicationsByAppIds(
  appIds: readonly string[],
  select: readonly string[] = CREDENTIAL_SELECT,
  deps: BatchDeps,
): AsyncGenerator<BatchedRead> {
  for (let i = 0; i < appIds.length; i += MAX_BATCH) {
    let pending = appIds.slice(i, i + MAX_BATCH);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const requests = pending.map((appId, n) => ({
        id: String(n),
        method: "GET",
        url: `/applications(appId='${encodeURIComponent(appId)}')?$select=${select.join(",")}`,
      }));
      const batch = parseAnswer(
        Batch,
        await deps.post({ requests }),
        "graph",
        "reading applications ($batch)",
      );
      const round = sortRound(batch, pending, attempt < deps.policy.maxAttempts, select);
      yield* round.done;
      if (round.retry.length > 0) {
        const count = round.retry.length;
        await waitToRetry(attempt, round.retryAfterMs, {
          service: "graph",
          sleep: deps.sleep,
          policy: deps.policy,
          onWait: (waitMs) =>
            deps.logger.warn(
              `graph: ${count} batched read(s) throttled; retrying in ${Math.round(waitMs / 1000)} s`,
            ),
        });
      }
      pending = round.retry;
    }
  }
}
