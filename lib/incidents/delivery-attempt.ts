/**
 * One delivery attempt: claim the record (a conditional write that also leases
 * it, unless this process created it claimed), send it, and settle it with the
 * claim's etag, so two concurrent drivers never send the same record twice. A
 * settled record leaves the pending list.
 *
 * An attempt whose answer never came (timeout, reset, the drain's deadline while
 * the request was out) is in doubt: the sink may have taken it. Slack and Teams
 * post a second message for a second request, so such a record is held for
 * `inDoubtHoldMs` before it is tried again; PagerDuty (`dedup_key`) and the
 * webhook (`delivery_id`) de-duplicate, so they are retried as usual.
 */
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import { errorMessage, HttpError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { StateStore, StoredItem } from "../state/store.js";
import type { CreationClaims } from "./creation-claims.js";
import type { DeliveryRecord } from "./delivery-record.js";
import type { SinkName } from "./incident.js";
import type { OutboxSettings } from "./outbox-options.js";
import type { PendingDeliveries } from "./pending-deliveries.js";
import { isPermanentStatus, scrub, sendToSink, type Sink } from "./sinks/sink.js";

export interface AttemptContext {
  store: StateStore;
  pending: PendingDeliveries;
  /** Records this process created claimed: sent without claiming them again. */
  created: CreationClaims;
  clock: Clock;
  logger: Logger;
  fetch: typeof fetch | undefined;
  options: OutboxSettings;
}

/** "skipped": not due, leased, or claimed by another driver. */
export type AttemptResult = "delivered" | "retry" | "dead" | "aborted" | "skipped";

type Outcome =
  | { kind: "delivered" }
  | { kind: "retry"; message: string; retryAfterMs: number | undefined; inDoubt: boolean }
  | { kind: "dead"; message: string }
  | { kind: "aborted"; inDoubt: boolean };

/** Claims, sends and settles one record. */
export async function attemptDelivery(
  ctx: AttemptContext,
  sink: Sink,
  item: StoredItem<DeliveryRecord>,
  abort: AbortSignal,
): Promise<AttemptResult> {
  const record = item.value;
  const now = ctx.clock.now().getTime();
  if (Date.parse(record.nextAttemptAt) > now) return "skipped";
  const claim = await claimFor(ctx, item, now);
  if (claim === undefined) return "skipped";
  const { claimed, etag } = claim;

  const outcome = await send(ctx, sink, record, abort);
  const { next, result } = settle(ctx, sink, claimed, outcome);
  const settled = await ctx.store.put("deliveries", record.id, next, { ifMatch: etag });
  if (!settled.ok) {
    ctx.logger.warn(
      `Alert delivery ${record.id} (${labelOf(record, sink.name)}) changed while it was being sent: its lease expired and another driver took it over; the sink may receive it twice.`,
    );
  } else if (next.state !== "pending") {
    await ctx.pending.settled(record);
  }
  return result;
}

/**
 * The claim to send under, or undefined when another driver holds the record. A record this
 * process created claimed (`creation-claims.ts`) is sent on that claim while at least half its
 * lease is left, so that the send ends well inside it (as a claim's full lease exceeds one send);
 * with less left it is claimed again, on the same etag, so a lease of ours never blocks us.
 */
async function claimFor(
  ctx: AttemptContext,
  item: StoredItem<DeliveryRecord>,
  now: number,
): Promise<{ claimed: DeliveryRecord; etag: string } | undefined> {
  const record = item.value;
  const leaseUntil = record.leaseUntil === null ? 0 : Date.parse(record.leaseUntil);
  const ours = ctx.created.take(record.id, item.etag, now);
  if (!ours && leaseUntil > now) return undefined;
  if (ours && leaseUntil - now >= ctx.options.leaseMs / 2) {
    return { claimed: { ...record, attempts: record.attempts + 1 }, etag: item.etag };
  }
  const claimed: DeliveryRecord = {
    ...record,
    attempts: record.attempts + 1,
    leaseUntil: new Date(now + ctx.options.leaseMs).toISOString(),
  };
  const written = await ctx.store.put("deliveries", record.id, claimed, { ifMatch: item.etag });
  return written.ok ? { claimed, etag: written.etag } : undefined;
}

/** The record as it is after the send, and what to report. */
function settle(
  ctx: AttemptContext,
  sink: Sink,
  claimed: DeliveryRecord,
  outcome: Outcome,
): { next: DeliveryRecord; result: Exclude<AttemptResult, "skipped"> } {
  const at = ctx.clock.now();
  const label = labelOf(claimed, sink.name);
  if (outcome.kind === "delivered") {
    ctx.logger.debug(`Alert delivered: ${label} (delivery ${claimed.id}).`);
    const next: DeliveryRecord = {
      ...claimed,
      state: "delivered",
      leaseUntil: null,
      lastError: null,
      settledAt: at.toISOString(),
    };
    return { next, result: "delivered" };
  }
  if (outcome.kind === "aborted") {
    // Not an attempt the sink refused: eligible again on the next pass, at once unless it may have been posted.
    const holdMs = inDoubtHold(ctx, sink, outcome.inDoubt);
    if (holdMs > 0) logInDoubt(ctx, label, holdMs);
    const next: DeliveryRecord = {
      ...claimed,
      leaseUntil: null,
      nextAttemptAt: new Date(at.getTime() + holdMs).toISOString(),
      lastError: "deadline reached before the sink answered",
    };
    return { next, result: "aborted" };
  }
  const age = at.getTime() - Date.parse(claimed.createdAt);
  if (outcome.kind === "dead" || age >= ctx.options.giveUpAfterHours * HOUR_MS) {
    ctx.logger.error(
      `Alert given up: ${label} after ${claimed.attempts} attempt(s) over ${Math.round(age / HOUR_MS)} h: ${outcome.message}` +
        (outcome.kind === "dead"
          ? ` The ${sink.name} sink refused this message as invalid, so it is not retried; check the sink's configuration, and report it if the message itself is at fault.`
          : ` Check the ${sink.name} sink's URL/key and that it is reachable.`),
    );
    const next: DeliveryRecord = {
      ...claimed,
      state: "dead",
      leaseUntil: null,
      lastError: outcome.message,
      settledAt: at.toISOString(),
    };
    return { next, result: "dead" };
  }
  const waitMs = Math.max(
    backoff(ctx.options, claimed.attempts),
    outcome.retryAfterMs ?? 0,
    inDoubtHold(ctx, sink, outcome.inDoubt),
  );
  ctx.logger.warn(
    `Alert delivery failed: ${label} (attempt ${claimed.attempts}); retrying in ${Math.round(waitMs / 1000)} s: ${outcome.message}`,
  );
  const next: DeliveryRecord = {
    ...claimed,
    leaseUntil: null,
    lastError: outcome.message,
    nextAttemptAt: new Date(at.getTime() + waitMs).toISOString(),
  };
  return { next, result: "retry" };
}

async function send(
  ctx: AttemptContext,
  sink: Sink,
  record: DeliveryRecord,
  abort: AbortSignal,
): Promise<Outcome> {
  // Stopped before the request left: nothing can have reached the sink.
  if (abort.aborted) return { kind: "aborted", inDoubt: false };
  try {
    await sendToSink(
      sink,
      record.notification,
      { deliveryId: record.id, sentAt: ctx.clock.now() },
      {
        clock: ctx.clock,
        fetch: ctx.fetch,
        abort,
        timeoutMs: ctx.options.attemptTimeoutMs,
        retry: { maxAttempts: ctx.options.attemptsPerPass, baseDelayMs: 250, maxDelayMs: 2_000 },
      },
    );
    return { kind: "delivered" };
  } catch (error) {
    // Cut while the request was out: the sink may have taken it without our hearing the answer.
    if (abort.aborted) return { kind: "aborted", inDoubt: true };
    if (error instanceof HttpError) return refusal(sink, error);
    // Anything else came from formatting (a notification the sink cannot represent): retrying cannot help.
    return { kind: "dead", message: scrub(sink, `${sink.name}: cannot format: ${errorMessage(error)}`) };
  }
}

/** A sink's HTTP refusal: permanent (the message is at fault) or worth a retry. */
function refusal(sink: Sink, error: HttpError): Outcome {
  const parts = [error.message, sink.explainFailure?.(error)];
  if (isCredentialStatus(error.statusCode)) {
    parts.push(`The ${sink.name} sink refuses its URL or key: check ${SETTING_OF[sink.name]}.`);
  }
  const message = scrub(
    sink,
    parts
      .filter((p) => p !== undefined)
      .map(sentence)
      .join(" "),
  );
  if (isPermanentStatus(error.statusCode)) return { kind: "dead", message };
  // No answer at all (timeout, reset after sending): the sink may have taken it.
  const inDoubt = error.statusCode === 0 && error.ambiguous;
  return { kind: "retry", message, retryAfterMs: error.retryAfterMs, inDoubt };
}

/** How long an in-doubt attempt holds its record: only for sinks that would post a duplicate. */
function inDoubtHold(ctx: AttemptContext, sink: Sink, inDoubt: boolean): number {
  return inDoubt && !sink.idempotent ? ctx.options.inDoubtHoldMs : 0;
}

function logInDoubt(ctx: AttemptContext, label: string, holdMs: number): void {
  ctx.logger.warn(
    `Alert delivery in doubt: ${label}: the drain's deadline came before the sink answered, so it may have been posted; not sent again for ${Math.round(holdMs / 1000)} s, then retried (a duplicate is possible).`,
  );
}

function backoff(options: OutboxSettings, attempts: number): number {
  return Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
}

function labelOf(record: DeliveryRecord, sink: SinkName): string {
  return `${record.notification.event} ${record.orderKey} → ${sink}`;
}

/** The setting behind each sink, for "check …" hints. */
const SETTING_OF: Record<SinkName, string> = {
  webhook: "ALERT_WEBHOOK_URL",
  slack: "SLACK_WEBHOOK_URL",
  teams: "TEAMS_WEBHOOK_URL",
  pagerduty: "PAGERDUTY_ROUTING_KEY",
};

/** Wrong, revoked or deleted webhook URL / integration key. */
function isCredentialStatus(status: number): boolean {
  return status === 401 || status === 403 || status === 404 || status === 410;
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
