/**
 * Proves a new secret before anything depends on it: Entra must issue tokens
 * with it, consistently. Entra can reject a brand-new secret for seconds to
 * minutes (no documented SLA; microsoft-graph-docs#17966 saw 4–18 s, others up
 * to 10 min), and its replicas can disagree meanwhile: one accepted token does
 * not mean the next sign-in, served by another replica, succeeds. So:
 *
 * - AADSTS7000215 ("invalid client secret") and AADSTS7000222 ("expired",
 *   reported right after a secret was created: Azure-Samples
 *   active-directory-dotnetcore-daemon-v2#87) mean "not yet", polled with
 *   back-off up to PROPAGATION_TIMEOUT_SECONDS;
 * - the secret counts as propagated only after PROOF_STREAK tokens in a row
 *   spread over at least PROOF_SPREAD_MS; a refusal in between starts over;
 * - any other refusal fails fast (waiting will not fix it).
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { SecretCheck, SecretCheckInput } from "../clients/entra-token.js";
import { pace } from "../clients/retry.js";

const MAX_POLL_MS = 4_000;
/** Consecutive accepted tokens required. */
export const PROOF_STREAK = 3;
/** …spread over at least this long, so more than one replica had its say. */
export const PROOF_SPREAD_MS = 10_000;
/** The refusals a secret that is still propagating gets. */
const NOT_YET = new Set(["7000215", "7000222"]);

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
  const streakGap = PROOF_SPREAD_MS / (PROOF_STREAK - 1);
  let delay = 1_000;
  let streakStart: number | undefined;
  let streak = 0;
  let lastError: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const check = await deps.checkSecret(input);
    const now = deps.clock.now().getTime();
    const waitedMs = now - started;
    if (check.ok) {
      streakStart ??= now;
      streak++;
      if (streak >= PROOF_STREAK && now - streakStart >= PROOF_SPREAD_MS) {
        deps.logger.info(
          `rotation: Entra accepted the new secret ${streak} times in a row over ${Math.round((now - streakStart) / 1000)} s, after ${attempt} attempt(s), ${Math.round(waitedMs / 1000)} s`,
        );
        return { ok: true, attempts: attempt, waitedMs };
      }
    } else {
      const message = `${check.aadsts ? `AADSTS${check.aadsts}: ` : ""}${check.message}`;
      const notYet = check.error === undefined || (check.aadsts !== undefined && NOT_YET.has(check.aadsts));
      if (!notYet) return { ok: false, attempts: attempt, waitedMs, lastError: message };
      if (streak > 0)
        deps.logger.warn(
          `rotation: Entra refused the new secret after accepting it ${streak} time(s) (replicas disagree); starting the proof over`,
        );
      streak = 0;
      streakStart = undefined;
      lastError = message;
    }
    if (now >= deadline) {
      return {
        ok: false,
        attempts: attempt,
        waitedMs,
        lastError: `Entra did not accept the new secret consistently within ${deps.timeoutSeconds} s (PROPAGATION_TIMEOUT_SECONDS): ${lastError ?? "accepted, but not yet over the whole proof"}`,
      };
    }
    const wait = streak > 0 ? streakGap : delay;
    if (streak === 0)
      deps.logger.debug(`rotation: new secret not accepted yet (${lastError}); retrying in ${wait / 1000} s`);
    // Pacing between proof attempts, not back-off after a failure; through the retry module so
    // every wait in a pass obeys the same cap.
    await pace((ms) => deps.clock.sleep(ms), Math.min(wait, deadline - now));
    // Capped low: the rotation's wall time should exceed the real propagation delay by seconds, not
    // by a long back-off step. At most one token request per 4 s is nothing to Entra.
    if (streak === 0) delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}
