/** The outbox's tunables and their defaults, shared by the drain, the send and the upkeep. */

export interface OutboxOptions {
  /** Per HTTP attempt. Default 8 s. */
  attemptTimeoutMs?: number;
  /** HTTP attempts per record per pass (`httpRequest` retries with back-off and Retry-After). Default 3. */
  attemptsPerPass?: number;
  /** How long a claim holds; must exceed one record's send time. Default 2 min. */
  leaseMs?: number;
  /**
   * A Slack or Teams message whose answer never came (timeout, reset, or the
   * drain's deadline while it was in flight) may have been posted: it is not
   * sent again for this long, and then it is (a rare duplicate beats an alert
   * never seen). Sinks that de-duplicate (PagerDuty, the webhook) are not held.
   * Default 2 min: far past the per-attempt timeout, so a slow sink is done with it.
   */
  inDoubtHoldMs?: number;
  /** Back-off between passes: base doubles per failed attempt, up to max. Default 1 min … 30 min. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A record still failing after this long is given up (error log). Default 48 h. */
  giveUpAfterHours?: number;
  /** Settled records are kept this long: the idempotency window of `enqueue`. Default 30 days. */
  retentionDays?: number;
}

export type OutboxSettings = Required<OutboxOptions>;

export const OUTBOX_DEFAULTS: OutboxSettings = {
  attemptTimeoutMs: 8_000,
  attemptsPerPass: 3,
  leaseMs: 120_000,
  inDoubtHoldMs: 120_000,
  backoffBaseMs: 60_000,
  backoffMaxMs: 30 * 60_000,
  giveUpAfterHours: 48,
  retentionDays: 30,
};
