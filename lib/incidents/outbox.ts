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
 *   (`delivery-attempt.ts`); it is created claimed, so its writer sends it at once;
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
import type { Logger } from "../logger.js";
import type { StateStore, StoredItem } from "../state/store.js";
import { CreationClaims } from "./creation-claims.js";
import { attemptDelivery, type AttemptContext } from "./delivery-attempt.js";
import { newDeliveryRecord, type DeliveryRecord } from "./delivery-record.js";
import type { Notification, SinkName } from "./incident.js";
import { DrainRound, emptyReport, type DeliverReport, type NextAsk, type SinkReport } from "./drain-round.js";
import { FreshDeliveries } from "./fresh-deliveries.js";
import { OUTBOX_DEFAULTS, type OutboxOptions } from "./outbox-options.js";
import { claimUpkeep, runUpkeep, type UpkeepClaim } from "./outbox-upkeep.js";
import { orphaned } from "./outbox-orphaned.js";
import { PendingDeliveries } from "./pending-deliveries.js";
import type { Sink } from "./sinks/sink.js";

export { deliveryIdOf, type DeliveryRecord } from "./delivery-record.js";
export type { OutboxOptions } from "./outbox-options.js";
export type { DeliverReport, SinkReport } from "./drain-round.js";

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
  /** Only these sinks' records; default every sink. */
  sinks?: readonly SinkName[] | undefined;
  /**
   * How many times delivery was asked for so far (the webhook's background drain). A sink that has
   * sent what it read and sees this changed reads its pending records again, until the deadline.
   */
  asked?: (() => number) | undefined;
  /** Resolves at the next ask: a sink with nothing new waits for it while another still sends (`drain-round.ts`). */
  nextAsk?: NextAsk | undefined;
}

interface SinkDrain {
  abort: AbortSignal;
  report: DeliverReport;
  asked: (() => number) | undefined;
  /** `asked()` when the records were read. */
  seen: number | undefined;
  round: DrainRound;
}

type Queues = StoredItem<DeliveryRecord>[][];

export class Outbox {
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #sinks: readonly Sink[];
  readonly #pending: PendingDeliveries;
  /** What this process enqueued since the last read: a sink asked again goes on with it (`fresh-deliveries.ts`). */
  readonly #fresh = new FreshDeliveries();
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
      created: new CreationClaims(),
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
    const [now, leaseMs] = [this.#clock.now(), this.#attempt.options.leaseMs]; // created claimed
    // Sinks at once: each record is a durable write the answer waits for; then one listing for them all.
    const results = await Promise.allSettled(
      targets.map((sink) => this.#create(newDeliveryRecord(notification, sink.name, now, leaseMs))),
    );
    const written = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const pending = written.filter((w) => w.pending).map((w) => w.sink);
    // Listed even when a record failed: those written do not wait unlisted for the caller's retry.
    if (pending.length > 0) await this.#pending.list(notification, pending);
    const created = written.flatMap((w) => (w.created === undefined ? [] : [w.created]));
    for (const item of created) this.#fresh.add(item);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    return created.length;
  }

  /** Creates the record unless it exists; whether it is pending, and the new item if this call made it. */
  async #create(
    record: DeliveryRecord,
  ): Promise<{ sink: SinkName; pending: boolean; created?: StoredItem<DeliveryRecord> }> {
    const result = await this.#store.put("deliveries", record.id, record, { ifNotExists: true });
    if (result.ok) {
      const item = { key: record.id, value: record, etag: result.etag };
      this.#attempt.created.add(item, this.#clock.now().getTime());
      return { sink: record.sink, pending: true, created: item };
    }
    // Enqueued before: pending, it is listed again (a crash may have come between it and its listing).
    const existing = await this.#store.get<DeliveryRecord>("deliveries", record.id);
    return { sink: record.sink, pending: existing?.value.state === "pending" };
  }

  /**
   * Sends what is due, every sink in parallel, until done or the deadline. Never
   * throws for a sink's failure (that is recorded and retried); rethrows state errors
   * after every sink has stopped.
   */
  async deliverPending(options: DeliverOptions = {}): Promise<DeliverReport> {
    const deadline = AbortSignal.timeout(options.deadlineMs ?? 60_000);
    const abort = options.abort ? AbortSignal.any([options.abort, deadline]) : deadline;
    const report = emptyReport();

    const upkeep = await claimUpkeep(this.#store, this.#clock);
    // State from before the `outbox` index: list its pending records before draining, once.
    if (upkeep?.first === true) await this.#upkeep(upkeep, abort);

    const work: Promise<void>[] = [];
    // Read before the records: what is asked for after this may not be in them.
    const seen = options.asked?.();
    this.#fresh.forget(options.sinks);
    const bySink = await this.#queuesToDrain(options);
    const round = new DrainRound(this.#sinks.filter((s) => bySink.has(s.name)).length, options.nextAsk);
    for (const [name, queues] of bySink) {
      const sink = this.#sinks.find((s) => s.name === name);
      if (sink === undefined) work.push(orphaned(this.#attempt, name, queues, report));
      else work.push(this.#drainSink(sink, queues, { abort, report, asked: options.asked, seen, round }));
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

  /** Pending queues per sink; with `nextAsk`, every sink, so one with nothing yet takes part when asked again. */
  async #queuesToDrain({ sinks, nextAsk }: DeliverOptions): Promise<Map<SinkName, Queues>> {
    const bySink = await this.#pending.queues(sinks);
    for (const { name } of nextAsk === undefined ? [] : this.#sinks) {
      if (sinks?.includes(name) ?? true) bySink.set(name, bySink.get(name) ?? []);
    }
    return bySink;
  }

  async #upkeep(claim: UpkeepClaim, abort: AbortSignal): Promise<void> {
    const { store, clock, pending, logger, options } = this.#attempt;
    await runUpkeep({ store, clock, pending, logger, retentionDays: options.retentionDays }, claim, abort);
  }

  /**
   * One sink: its queues (one per incident) drained by up to `maxConcurrency` runners. With `asked`,
   * when more was asked for since it read its queues, it goes on at once with what this process
   * enqueued since (or reads its own again) instead of waiting for the other sinks to finish theirs.
   */
  async #drainSink(sink: Sink, first: Queues, drain: SinkDrain): Promise<void> {
    const stats: SinkReport = { delivered: 0, failed: 0, gaveUp: 0 };
    drain.report.sinks[sink.name] = stats;
    const state = { resting: false };
    let queues = first;
    const had = new Set<string>(); // one enqueued while the first read ran is in it and in `#fresh`
    for (let seen = drain.seen; ;) {
      for (const item of queues.flat()) had.add(item.key);
      const waiting = await this.#drainQueues(sink, queues, drain, stats, state);
      const done = drain.abort.aborted || state.resting;
      // Nothing asked since the read: wait in the round for the next ask (false: the sink has left it).
      if (!done && drain.asked?.() === seen && !(await drain.round.idle(drain.abort))) {
        drain.report.waiting += waiting;
        return;
      }
      const now = drain.asked?.();
      if (now === seen || done || drain.abort.aborted) {
        drain.report.waiting += waiting;
        drain.round.leave();
        return;
      }
      seen = now;
      queues =
        this.#fresh.take(sink.name, had) ?? (await this.#pending.queues([sink.name])).get(sink.name) ?? [];
    }
  }

  /** Sends what `queues` hold, in order per incident; returns how many records were left waiting. */
  async #drainQueues(
    sink: Sink,
    queues: Queues,
    { abort, report }: SinkDrain,
    stats: SinkReport,
    state: { resting: boolean },
  ): Promise<number> {
    let waiting = 0;
    let next = 0;
    const runner = async (): Promise<void> => {
      for (;;) {
        const queue = queues[next++];
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
        waiting += queue.length - i;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, sink.maxConcurrency) }, runner));
    return waiting;
  }
}
