/**
 * Durable alert delivery. A notification becomes one record per routed sink in the
 * `deliveries` collection *before* any sink is called, so an accepted event is not
 * lost while a sink is down (CONTRACT.md, "Promises"). `deliverPending` then drains
 * the records:
 *
 * - sinks in parallel and independent: one sink down or hanging never holds up another;
 * - per sink, the notifications of one incident in order (a PagerDuty resolve never
 *   overtakes its trigger); after a transient failure the sink rests until the next pass;
 * - a record is claimed (conditional write + lease) before it is sent and marked
 *   delivered with the claim's etag, so two concurrent drivers never send it twice;
 * - everything stops at the deadline: the webhook handler must answer Nylas well
 *   inside its 10 s cut-off, and what is not sent stays pending for the next pass;
 * - a failing record backs off (`nextAttemptAt`) and is given up, with an error
 *   log, after `giveUpAfterHours`.
 *
 * Delivered records are kept `retentionDays` (then deleted): they are what makes
 * `enqueue` idempotent, so re-running a pass never notifies twice.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import { errorMessage, HttpError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { StateStore, StoredItem } from "../state/store.js";
import { orderKeyOf, type Notification, type SinkName } from "./incident.js";
import { isPermanentStatus, scrub, sendToSink, type Sink } from "./sinks/sink.js";

export interface DeliveryRecord {
  v: 1;
  /** Delivery id: stable for one (notification, sink); sent as `delivery_id` / X-Watchdog-Delivery. */
  id: string;
  sink: SinkName;
  notification: Notification;
  /** Deliveries with the same order key go out to a sink in `seq` order. */
  orderKey: string;
  seq: number;
  state: "pending" | "delivered" | "dead";
  createdAt: string;
  /** Sends started (claims), across passes. */
  attempts: number;
  nextAttemptAt: string;
  /** While in the future, another driver is sending this record. */
  leaseUntil: string | null;
  /** Why the last send failed: sink name, status, host only. Never a URL path, key or secret. */
  lastError: string | null;
  /** When it was delivered or given up. */
  settledAt: string | null;
}

export interface OutboxOptions {
  /** Per HTTP attempt. Default 8 s. */
  attemptTimeoutMs?: number;
  /** HTTP attempts per record per pass (`httpRequest` retries with back-off and Retry-After). Default 3. */
  attemptsPerPass?: number;
  /** How long a claim holds; must exceed one record's send time. Default 2 min. */
  leaseMs?: number;
  /** Back-off between passes: base doubles per failed attempt, up to max. Default 1 min … 30 min. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A record still failing after this long is given up (error log). Default 48 h. */
  giveUpAfterHours?: number;
  /** Settled records are kept this long: the idempotency window of `enqueue`. Default 30 days. */
  retentionDays?: number;
}

export interface OutboxDeps {
  store: StateStore;
  clock: Clock;
  logger: Logger;
  sinks: readonly Sink[];
  fetch?: typeof fetch;
  options?: OutboxOptions;
}

export interface DeliverOptions {
  /** Wall-clock budget for the whole drain. Default 60 s. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface SinkReport {
  delivered: number;
  failed: number;
  gaveUp: number;
}

export interface DeliverReport {
  delivered: number;
  /** Sent and refused or unanswered this pass; pending again with back-off. */
  failed: number;
  /** Given up this pass (permanent refusal, or older than `giveUpAfterHours`). */
  gaveUp: number;
  /** Pending and not attempted this pass: backing off, leased by another driver, sink resting, deadline. */
  waiting: number;
  deadlineReached: boolean;
  sinks: Partial<Record<SinkName, SinkReport>>;
}

const DEFAULTS: Required<OutboxOptions> = {
  attemptTimeoutMs: 8_000,
  attemptsPerPass: 3,
  leaseMs: 120_000,
  backoffBaseMs: 60_000,
  backoffMaxMs: 30 * 60_000,
  giveUpAfterHours: 48,
  retentionDays: 30,
};

type Outcome =
  | { kind: "delivered" }
  | { kind: "retry"; message: string; retryAfterMs: number | undefined }
  | { kind: "dead"; message: string }
  | { kind: "aborted" };

/** The delivery id of (notification, sink): opaque, storage-key safe, the same on every retry. */
export function deliveryIdOf(notificationId: string, sink: SinkName): string {
  return createHash("sha256").update(`${notificationId}\n${sink}`).digest("hex").slice(0, 32);
}

export class Outbox {
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #sinks: readonly Sink[];
  readonly #fetch: typeof fetch | undefined;
  readonly #options: Required<OutboxOptions>;
  #warnedNoSinks = false;

  constructor(deps: OutboxDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#sinks = deps.sinks;
    this.#fetch = deps.fetch;
    this.#options = { ...DEFAULTS, ...deps.options };
  }

  /** Names of the configured sinks. */
  get sinkNames(): SinkName[] {
    return this.#sinks.map((s) => s.name);
  }

  /**
   * Writes one pending record per configured sink the notification is routed to.
   * Idempotent: a record that exists (pending or settled) is left alone.
   * Returns how many records were new.
   */
  async enqueue(notification: Notification): Promise<number> {
    const targets = this.#sinks.filter((s) => notification.sinks.includes(s.name));
    if (this.#sinks.length === 0 && !this.#warnedNoSinks) {
      this.#warnedNoSinks = true;
      this.#logger.warn(
        "No alert sink is configured: incidents are recorded but nobody is told. Set ALERT_WEBHOOK_URL, SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL or PAGERDUTY_ROUTING_KEY.",
      );
    }
    const now = this.#clock.now().toISOString();
    let created = 0;
    for (const sink of targets) {
      const id = deliveryIdOf(notification.id, sink.name);
      const record: DeliveryRecord = {
        v: 1,
        id,
        sink: sink.name,
        notification,
        orderKey: orderKeyOf(notification),
        seq: notification.type === "incident" ? notification.seq : 0,
        state: "pending",
        createdAt: now,
        attempts: 0,
        nextAttemptAt: now,
        leaseUntil: null,
        lastError: null,
        settledAt: null,
      };
      const result = await this.#store.put("deliveries", id, record, { ifNotExists: true });
      if (result.ok) created++;
    }
    return created;
  }

  /**
   * Sends what is due, every sink in parallel, until done or the deadline. Never
   * throws for a sink's failure (that is recorded and retried); rethrows state errors
   * after every sink has stopped.
   */
  async deliverPending(options: DeliverOptions = {}): Promise<DeliverReport> {
    const deadline = AbortSignal.timeout(options.deadlineMs ?? 60_000);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const report: DeliverReport = {
      delivered: 0,
      failed: 0,
      gaveUp: 0,
      waiting: 0,
      deadlineReached: false,
      sinks: {},
    };

    const queues = new Map<SinkName, Map<string, StoredItem<DeliveryRecord>[]>>();
    const settled: StoredItem<DeliveryRecord>[] = [];
    for await (const item of this.#store.list<DeliveryRecord>("deliveries")) {
      if (item.value.state !== "pending") {
        settled.push(item);
        continue;
      }
      const bySink = queues.get(item.value.sink) ?? new Map<string, StoredItem<DeliveryRecord>[]>();
      queues.set(item.value.sink, bySink);
      const queue = bySink.get(item.value.orderKey) ?? [];
      bySink.set(item.value.orderKey, queue);
      queue.push(item);
    }

    const work: Promise<void>[] = [];
    for (const [name, bySink] of queues) {
      const sink = this.#sinks.find((s) => s.name === name);
      const ordered = [...bySink.values()].map((q) => q.sort(byOrder)).sort((a, b) => byOrder(a[0]!, b[0]!));
      if (sink === undefined) work.push(this.#orphaned(name, ordered, report));
      else work.push(this.#drainSink(sink, ordered, signal, report));
    }
    const results = await Promise.allSettled(work);

    report.deadlineReached = deadline.aborted;
    if (!signal.aborted) await this.#purge(settled);

    if (report.delivered + report.failed + report.gaveUp > 0) {
      this.#logger.info(
        `Alerts: ${report.delivered} delivered, ${report.failed} to retry, ${report.gaveUp} given up, ${report.waiting} waiting` +
          (report.deadlineReached ? " (deadline reached)." : "."),
      );
    }
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length === 1) throw failures[0]!.reason;
    if (failures.length > 1) {
      throw new AggregateError(
        failures.map((f) => f.reason as unknown),
        "Alert delivery failed to read or write state.",
      );
    }
    return report;
  }

  /** One sink: its queues (one per incident) drained by up to `maxConcurrency` runners. */
  async #drainSink(
    sink: Sink,
    queues: StoredItem<DeliveryRecord>[][],
    signal: AbortSignal,
    report: DeliverReport,
  ): Promise<void> {
    const stats: SinkReport = { delivered: 0, failed: 0, gaveUp: 0 };
    report.sinks[sink.name] = stats;
    const state = { next: 0, resting: false };
    const runner = async (): Promise<void> => {
      for (;;) {
        const queue = queues[state.next++];
        if (queue === undefined) return;
        let i = 0;
        for (; i < queue.length; i++) {
          if (signal.aborted || state.resting) break;
          const outcome = await this.#deliverOne(sink, queue[i]!, signal);
          if (outcome === "delivered") {
            report.delivered++;
            stats.delivered++;
            continue;
          }
          if (outcome === "dead") {
            report.gaveUp++;
            stats.gaveUp++;
            // A message that can never be sent must not block the ones behind it.
            continue;
          }
          if (outcome === "retry") {
            report.failed++;
            stats.failed++;
            // The sink is probably down: stop hammering it until the next pass.
            state.resting = true;
            i++;
          }
          // Retrying, skipped (not due / taken by another driver) or cut by the deadline:
          // the rest of this incident's notifications wait, so they never overtake it.
          break;
        }
        report.waiting += queue.length - i;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, sink.maxConcurrency) }, runner));
  }

  /** Claims, sends and settles one record. "skipped": not due, leased, or claimed by another driver. */
  async #deliverOne(
    sink: Sink,
    item: StoredItem<DeliveryRecord>,
    signal: AbortSignal,
  ): Promise<"delivered" | "retry" | "dead" | "aborted" | "skipped"> {
    const record = item.value;
    const now = this.#clock.now();
    if (record.leaseUntil !== null && Date.parse(record.leaseUntil) > now.getTime()) return "skipped";
    if (Date.parse(record.nextAttemptAt) > now.getTime()) return "skipped";

    const claimed: DeliveryRecord = {
      ...record,
      attempts: record.attempts + 1,
      leaseUntil: new Date(now.getTime() + this.#options.leaseMs).toISOString(),
    };
    const claim = await this.#store.put("deliveries", record.id, claimed, { ifMatch: item.etag });
    if (!claim.ok) return "skipped";

    const outcome = await this.#send(sink, record, signal);
    const at = this.#clock.now();
    let next: DeliveryRecord;
    let result: "delivered" | "retry" | "dead" | "aborted";
    const label = `${record.notification.event} ${record.orderKey} → ${sink.name}`;

    if (outcome.kind === "delivered") {
      next = {
        ...claimed,
        state: "delivered",
        leaseUntil: null,
        lastError: null,
        settledAt: at.toISOString(),
      };
      result = "delivered";
      this.#logger.debug(`Alert delivered: ${label} (delivery ${record.id}).`);
    } else if (outcome.kind === "aborted") {
      // Not an attempt the sink refused: eligible again at once on the next pass.
      next = {
        ...claimed,
        leaseUntil: null,
        nextAttemptAt: at.toISOString(),
        lastError: "deadline reached before the sink answered",
      };
      result = "aborted";
    } else {
      const age = at.getTime() - Date.parse(record.createdAt);
      const expired = age >= this.#options.giveUpAfterHours * HOUR_MS;
      if (outcome.kind === "dead" || expired) {
        next = {
          ...claimed,
          state: "dead",
          leaseUntil: null,
          lastError: outcome.message,
          settledAt: at.toISOString(),
        };
        result = "dead";
        this.#logger.error(
          `Alert given up: ${label} after ${claimed.attempts} attempt(s) over ${Math.round(age / HOUR_MS)} h: ${outcome.message}` +
            (outcome.kind === "dead"
              ? ` The ${sink.name} sink refused this message as invalid, so it is not retried; check the sink's configuration, and report it if the message itself is at fault.`
              : ` Check the ${sink.name} sink's URL/key and that it is reachable.`),
        );
      } else {
        const waitMs = Math.max(this.#backoff(claimed.attempts), outcome.retryAfterMs ?? 0);
        next = {
          ...claimed,
          leaseUntil: null,
          lastError: outcome.message,
          nextAttemptAt: new Date(at.getTime() + waitMs).toISOString(),
        };
        result = "retry";
        this.#logger.warn(
          `Alert delivery failed: ${label} (attempt ${claimed.attempts}); retrying in ${Math.round(waitMs / 1000)} s: ${outcome.message}`,
        );
      }
    }
    const settled = await this.#store.put("deliveries", record.id, next, { ifMatch: claim.etag });
    if (!settled.ok) {
      this.#logger.warn(
        `Alert delivery ${record.id} (${label}) changed while it was being sent: its lease expired and another driver took it over; the sink may receive it twice.`,
      );
    }
    return result;
  }

  async #send(sink: Sink, record: DeliveryRecord, signal: AbortSignal): Promise<Outcome> {
    try {
      await sendToSink(
        sink,
        record.notification,
        { deliveryId: record.id, sentAt: this.#clock.now() },
        {
          clock: this.#clock,
          fetch: this.#fetch,
          signal,
          timeoutMs: this.#options.attemptTimeoutMs,
          retry: { maxAttempts: this.#options.attemptsPerPass, baseDelayMs: 250, maxDelayMs: 2_000 },
        },
      );
      return { kind: "delivered" };
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      if (error instanceof HttpError) {
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
        return { kind: "retry", message, retryAfterMs: error.retryAfterMs };
      }
      // Anything else came from formatting (a notification the sink cannot represent): retrying cannot help.
      return { kind: "dead", message: scrub(sink, `${sink.name}: cannot format: ${errorMessage(error)}`) };
    }
  }

  /** Records for a sink that is no longer configured: kept until the give-up age, in case it comes back. */
  async #orphaned(
    name: SinkName,
    queues: StoredItem<DeliveryRecord>[][],
    report: DeliverReport,
  ): Promise<void> {
    const now = this.#clock.now();
    let waiting = 0;
    for (const item of queues.flat()) {
      const age = now.getTime() - Date.parse(item.value.createdAt);
      if (age < this.#options.giveUpAfterHours * HOUR_MS) {
        waiting++;
        continue;
      }
      const lastError = `the ${name} sink is no longer configured`;
      const dead: DeliveryRecord = { ...item.value, state: "dead", lastError, settledAt: now.toISOString() };
      const ok = await this.#store.put("deliveries", item.key, dead, { ifMatch: item.etag });
      if (ok.ok) {
        report.gaveUp++;
        this.#logger.error(
          `Alert given up: ${item.value.notification.event} ${item.value.orderKey} → ${name}: ${lastError}.`,
        );
      }
    }
    report.waiting += waiting;
    if (waiting > 0) {
      this.#logger.warn(
        `${waiting} alert(s) wait for the ${name} sink, which is not configured any more; they are given up after ${this.#options.giveUpAfterHours} h.`,
      );
    }
  }

  /** Deletes settled records past retention. */
  async #purge(settled: StoredItem<DeliveryRecord>[]): Promise<void> {
    const cutoff = this.#clock.now().getTime() - this.#options.retentionDays * 24 * HOUR_MS;
    for (const item of settled) {
      const at =
        item.value.settledAt === null ? Date.parse(item.value.createdAt) : Date.parse(item.value.settledAt);
      if (at < cutoff) await this.#store.delete("deliveries", item.key, { ifMatch: item.etag });
    }
  }

  #backoff(attempts: number): number {
    return Math.min(this.#options.backoffMaxMs, this.#options.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  }
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

function byOrder(a: StoredItem<DeliveryRecord>, b: StoredItem<DeliveryRecord>): number {
  return a.value.createdAt === b.value.createdAt
    ? a.value.seq - b.value.seq
    : a.value.createdAt < b.value.createdAt
      ? -1
      : 1;
}
