/**
 * The delivery records this process enqueued since a drain last read the
 * outbox, per sink: what a sink goes on with when a webhook answer asks for
 * delivery again while it drains. Reading the outbox again instead lists every
 * pending entry, a slow sink's backlog included, so each healthy sink's round
 * cost grew with the slow sink's backlog: under a steady load the slow sink
 * delayed the others after all (bench/RESULTS.md, "alert latency").
 *
 * Only a notification that opens its order key is taken from memory: nothing
 * of its incident can be pending before it, so it cannot overtake one. A
 * follow-up (a repeat, a resolve) may have a predecessor another process
 * enqueued; a sink with one reads the outbox, as before. The store stays the
 * truth: a record taken from here is sent through the same claim, a
 * conditional write on the etag its creation returned.
 */
import type { StoredItem } from "../state/store.js";
import { asQueues, type DeliveryRecord } from "./delivery-record.js";
import type { SinkName } from "./incident.js";

/** Past this many per sink, memory is not the place: the sink reads the outbox. */
const DEFAULT_LIMIT = 10_000;

/** The first notification of an incident is seq 1; an announcement is seq 0 with an order key of its own. */
const OPENS_ITS_ORDER_KEY = 1;

export class FreshDeliveries {
  readonly #bySink = new Map<SinkName, Map<string, StoredItem<DeliveryRecord>>>();
  /** Sinks that passed the limit: they read the outbox at their next round. */
  readonly #overflowed = new Set<SinkName>();
  readonly #limit: number;

  constructor(limit = DEFAULT_LIMIT) {
    this.#limit = limit;
  }

  /** A record just created (and listed in `outbox`), with the etag its creation returned. */
  add(item: StoredItem<DeliveryRecord>): void {
    const sink = item.value.sink;
    if (this.#overflowed.has(sink)) return;
    const records = this.#bySink.get(sink) ?? new Map<string, StoredItem<DeliveryRecord>>();
    this.#bySink.set(sink, records);
    if (records.size >= this.#limit) {
      this.#overflowed.add(sink);
      this.#bySink.delete(sink);
      return;
    }
    records.set(item.key, item);
  }

  /** Before a read of the outbox starts: everything added so far is in what it reads. */
  forget(sinks?: readonly SinkName[]): void {
    for (const sink of sinks ?? [...this.#bySink.keys(), ...this.#overflowed]) {
      this.#bySink.delete(sink);
      this.#overflowed.delete(sink);
    }
  }

  /**
   * The sink's fresh records but those in `had`, as queues (one per order key, in order), and
   * forgets them; or undefined when the sink must read the outbox instead (a follow-up, or too many).
   */
  take(sink: SinkName, had: ReadonlySet<string> = new Set()): StoredItem<DeliveryRecord>[][] | undefined {
    const items = [...(this.#bySink.get(sink)?.values() ?? [])].filter((item) => !had.has(item.key));
    const overflowed = this.#overflowed.has(sink);
    this.forget([sink]);
    if (overflowed || items.some((item) => item.value.seq > OPENS_ITS_ORDER_KEY)) return undefined;
    return asQueues(items);
  }
}
