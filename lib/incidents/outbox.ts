/**
 * Durable alert delivery. A notification becomes one record per routed sink in the
 * `deliveries` collection *before* any sink is called, so an accepted event is not
 * lost while a sink is down (CONTRACT.md, "Promises"). `deliverPending` then drains
 * the records:
 *
 * - it reads only what is pending (the `outbox` index, `pending-deliveries.ts`), so
 *   its cost does not grow with the alerts already sent;
 * - sinks in parallel and independent: one sink down or hanging never holds up another;
 * - per sink, the notifications of one incident in order (a PagerDuty resolve never
 *   overtakes its trigger); after a transient failure the sink rests until the next pass;
 * - a record is claimed (conditional write + lease) before it is sent and marked
 *   delivered with the claim's etag, so two concurrent drivers never send it twice
 *   (`delivery-attempt.ts`);
 * - everything stops at the deadline: the webhook handler must answer Nylas well
 *   inside its 10 s cut-off, and what is not sent stays pending for the next pass;
 * - a failing record backs off (`nextAttemptAt`) and is given up, with an error
 *   log, after `giveUpAfterHours`.
 *
 * Delivered records are kept `retentionDays` (then deleted by the daily upkeep,
 * `outbox-upkeep.ts`): they are what makes `enqueue` idempotent, so re-running a
 * pass never notifies twice.
 */
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore, StoredItem } from "../state/store.js";
import { attemptDelivery, type AttemptContext } from "./delivery-attempt.js";
import { byOrder, newDeliveryRecord, type DeliveryRecord } from "./delivery-record.js";
import type { Notification, SinkName } from "./incident.js";
import { OUTBOX_DEFAULTS, type OutboxOptions } from "./outbox-options.js";
import { claimUpkeep, runUpkeep, type UpkeepClaim } from "./outbox-upkeep.js";
import { PendingDeliveries } from "./pending-deliveries.js";
import type { Sink } from "./sinks/sink.js";

export { deliveryIdOf, type DeliveryRecord } from "./delivery-record.js";
export type { OutboxOptions } from "./outbox-options.js";

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
  abort?: AbortSignal;
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

type Queues = StoredItem<DeliveryRecord>[][];

export class Outbox {
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #sinks: readonly Sink[];
  readonly #pending: PendingDeliveries;
  readonly #attempt: AttemptContext;
  #warnedNoSinks = false;

  constructor(deps: OutboxDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#sinks = deps.sinks;
    this.#pending = new PendingDeliveries(deps.store);
    this.#attempt = {
      store: deps.store,
      pending: this.#pending,
      clock: deps.clock,
      logger: deps.logger,
      fetch: deps.fetch,
      options: { ...OUTBOX_DEFAULTS, ...deps.options },
    };
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
      const record = newDeliveryRecord(notification, sink.name, now);
      const result = await this.#store.put("deliveries", record.id, record, { ifNotExists: true });
      if (result.ok) {
        created++;
        await this.#pending.add(record);
        continue;
      }
      // Enqueued before: if a crash came between its record and its listing, list it now.
      const existing = await this.#store.get<DeliveryRecord>("deliveries", record.id);
      if (existing?.value.state === "pending") await this.#pending.add(existing.value);
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
    const abort = options.abort ? AbortSignal.any([options.abort, deadline]) : deadline;
    const report: DeliverReport = {
      delivered: 0,
      failed: 0,
      gaveUp: 0,
      waiting: 0,
      deadlineReached: false,
      sinks: {},
    };

    const upkeep = await claimUpkeep(this.#store, this.#clock);
    // State from before the `outbox` index: list its pending records before draining, once.
    if (upkeep?.first === true) await this.#upkeep(upkeep, abort);

    const queues = new Map<SinkName, Map<string, StoredItem<DeliveryRecord>[]>>();
    for (const item of await this.#pending.records()) {
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
      else work.push(this.#drainSink(sink, ordered, abort, report));
    }
    const results = await Promise.allSettled(work);

    report.deadlineReached = deadline.aborted;
    if (upkeep?.first === false && !abort.aborted) await this.#upkeep(upkeep, abort);

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

  async #upkeep(claim: UpkeepClaim, abort: AbortSignal): Promise<void> {
    const done = await runUpkeep(
      {
        store: this.#store,
        clock: this.#clock,
        pending: this.#pending,
        retentionDays: this.#attempt.options.retentionDays,
      },
      claim,
      abort,
    );
    if (done.listed > 0) {
      this.#logger.info(`Alerts: ${done.listed} pending delivery(ies) found unlisted and queued again.`);
    }
  }

  /** One sink: its queues (one per incident) drained by up to `maxConcurrency` runners. */
  async #drainSink(sink: Sink, queues: Queues, abort: AbortSignal, report: DeliverReport): Promise<void> {
    const stats: SinkReport = { delivered: 0, failed: 0, gaveUp: 0 };
    report.sinks[sink.name] = stats;
    const state = { next: 0, resting: false };
    const runner = async (): Promise<void> => {
      for (;;) {
        const queue = queues[state.next++];
        if (queue === undefined) return;
        let i = 0;
        for (; i < queue.length; i++) {
          if (abort.aborted || state.resting) break;
          const outcome = await attemptDelivery(this.#attempt, sink, queue[i]!, abort);
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

  /** Records for a sink that is no longer configured: kept until the give-up age, in case it comes back. */
  async #orphaned(name: SinkName, queues: Queues, report: DeliverReport): Promise<void> {
    const now = this.#clock.now();
    const giveUpHours = this.#attempt.options.giveUpAfterHours;
    let waiting = 0;
    for (const item of queues.flat()) {
      const age = now.getTime() - Date.parse(item.value.createdAt);
      if (age < giveUpHours * HOUR_MS) {
        waiting++;
        continue;
      }
      const lastError = `the ${name} sink is no longer configured`;
      const dead: DeliveryRecord = { ...item.value, state: "dead", lastError, settledAt: now.toISOString() };
      const ok = await this.#store.put("deliveries", item.key, dead, { ifMatch: item.etag });
      if (ok.ok) {
        await this.#pending.remove(item.key);
        report.gaveUp++;
        this.#logger.error(
          `Alert given up: ${item.value.notification.event} ${item.value.orderKey} → ${name}: ${lastError}.`,
        );
      }
    }
    report.waiting += waiting;
    if (waiting > 0) {
      this.#logger.warn(
        `${waiting} alert(s) wait for the ${name} sink, which is not configured any more; they are given up after ${giveUpHours} h.`,
      );
    }
  }
}
