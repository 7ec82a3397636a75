/**
 * Proves a new secret before anything depends on it: Entra must issue a token
 * with it. Entra can reject a brand-new secret for seconds to minutes (no
 * documented SLA; microsoft-graph-docs#17966 saw 4–18 s, others up to 10 min),
 * answering AADSTS7000215 meanwhile — so poll with back-off up to
 * PROPAGATION_TIMEOUT_SECONDS while that is the answer, and fail fast on any
 * other refusal (which waiting will not fix).
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { SecretCheck, SecretCheckInput } from "../clients/entra-token.js";

const MAX_POLL_MS = 4_000;

export interface ProveResult {
  ok: boolean;
  attempts: number;
  waitedMs: number;
  /** The last refusal, when not ok. Never contains the secret. */
  lastError?: string;
}

export async function proveSecret(
  input: SecretCheckInput,
  deps: {
    clock: Clock;
    logger: Logger;
    checkSecret: (input: SecretCheckInput) => Promise<SecretCheck>;
    timeoutSeconds: number;
  },
): Promise<ProveResult> {
  const started = deps.clock.now().getTime();
  const deadline = started + deps.timeoutSeconds * 1000;
  let delay = 1_000;
  for (let attempt = 1; ; attempt++) {
    const check = await deps.checkSecret(input);
    const waitedMs = deps.clock.now().getTime() - started;
    if (check.ok) {
      deps.logger.info(
        `rotation: Entra accepted the new secret after ${attempt} attempt(s), ${Math.round(waitedMs / 1000)} s`,
      );
      return { ok: true, attempts: attempt, waitedMs };
    }
    const notYet = check.aadsts === "7000215" || check.error === undefined;
    const message = `${check.aadsts ? `AADSTS${check.aadsts}: ` : ""}${check.message}`;
    if (!notYet) return { ok: false, attempts: attempt, waitedMs, lastError: message };
    const now = deps.clock.now().getTime();
    if (now >= deadline) {
      return {
        ok: false,
        attempts: attempt,
        waitedMs,
        lastError: `Entra still refused the new secret after ${deps.timeoutSeconds} s (PROPAGATION_TIMEOUT_SECONDS): ${message}`,
      };
    }
    deps.logger.debug(`rotation: new secret not accepted yet (${message}); retrying in ${delay / 1000} s`);
    await deps.clock.sleep(Math.min(delay, deadline - now));
    // Capped low: the rotation's wall time should exceed the real propagation delay by seconds, not
    // by a long back-off step. At most one token request per 4 s is nothing to Entra.
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}
