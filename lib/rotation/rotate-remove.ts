/**
 * Removing a client secret from the app registration. A removal is safe to
 * repeat (a key already gone answers "not found", which counts as done), so it
 * is retried by the one retry policy with Graph's predicate, as a call that is
 * idempotent in effect.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { GraphClient } from "../clients/graph.js";
import { isTransientGraph, withRetry, type RetryPolicy } from "../clients/retry.js";
import { HttpError, errorMessage } from "../errors.js";

const REMOVE_RETRY: Partial<RetryPolicy> = { maxAttempts: 5, baseDelayMs: 2_000 };

/** removePassword on a key that is not there: Graph's 404, or 400 with the key-id codes. */
function isAlreadyGone(error: unknown): boolean {
  return (
    error instanceof HttpError &&
    (error.statusCode === 404 ||
      (error.statusCode === 400 &&
        ["InvalidKeyId", "Request_ResourceNotFound", "NoSuchPasswordCredential"].includes(error.code ?? "")))
  );
}

/**
 * Removes a key the rules allow removing. Sent once per attempt (never replayed
 * by the SDK); an attempt that failed ambiguously is simply tried again. False
 * when it could not be removed (refused, or still failing after the retries).
 */
export async function removeKeyWithRetry(
  graph: GraphClient,
  appObjectId: string,
  keyId: string,
  deps: { clock: Clock; logger: Logger },
): Promise<boolean> {
  try {
    await withRetry(
      async (attempt) => {
        try {
          await graph.removePassword(appObjectId, keyId);
        } catch (error) {
          if (isAlreadyGone(error)) return;
          deps.logger.warn(
            `rotation: removing secret ${keyId} failed (attempt ${attempt}): ${errorMessage(error)}`,
          );
          throw error;
        }
      },
      {
        idempotent: true,
        transient: isTransientGraph,
        policy: REMOVE_RETRY,
        sleep: (ms, abort) => deps.clock.sleep(ms, abort),
      },
    );
    return true;
  } catch {
    return false;
  }
}
