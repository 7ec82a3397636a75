/**
 * The `outbox` collection: one entry per pending delivery, so that a drain costs
 * what is left to send, however many settled records `deliveries` keeps for the
 * idempotency window. The entry is only a pointer; the record in `deliveries`
 * stays the truth (claims and settlements are conditional writes on it), so an
 * entry left behind by a crash is harmless: the next read drops it. Entries
 * under `UNSENT_PREFIX` are the incidents' own listing (`unsent-incidents.ts`)
 * and are not read here.
 */
import type { StateStore, StoredItem } from "../state/store.js";
import { asQueues, type DeliveryRecord, type PendingEntry } from "./delivery-record.js";
import type { SinkName } from "./incident.js";
import { isUnsentEntryKey } from "./unsent-incidents.js";

/** Records read at once while following the entries (one round trip each). */
const READ_CONCURRENCY = 8;

export class PendingDeliveries {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** Lists the record as pending. Idempotent. */
  async add(record: DeliveryRecord): Promise<void> {
    const entry: PendingEntry = { sink: record.sink, createdAt: record.createdAt };
    await this.#store.put("outbox", record.id, entry, { ifNotExists: true });
  }

  /** After the record settled: it is no longer pending. */
  async remove(id: string): Promise<void> {
    await this.#store.delete("outbox", id);
  }

  /** The ids listed as pending. */
  async ids(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const entry of this.#store.list<PendingEntry>("outbox")) {
      if (!isUnsentEntryKey(entry.key)) ids.add(entry.key);
    }
    return ids;
  }

  /**
   * Every pending record (of `sinks`, if given), read through the entries. Entries whose record
   * settled or is gone (a crash between settling and removing) are dropped.
   */
  async records(sinks?: readonly SinkName[]): Promise<StoredItem<DeliveryRecord>[]> {
    const entries: StoredItem<PendingEntry>[] = [];
    for await (const entry of this.#store.list<PendingEntry>("outbox")) {
      // The entry names its sink: another sink's record is not read at all.
      if (isUnsentEntryKey(entry.key) || (sinks !== undefined && !sinks.includes(entry.value.sink))) continue;
      entries.push(entry);
    }
    const pending: StoredItem<DeliveryRecord>[] = [];
    let next = 0;
    const reader = async (): Promise<void> => {
      for (let entry = entries[next++]; entry !== undefined; entry = entries[next++]) {
        const item = await this.#store.get<DeliveryRecord>("deliveries", entry.key);
        if (item?.value.state === "pending") pending.push(item);
        else await this.#store.delete("outbox", entry.key, { ifMatch: entry.etag });
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, entries.length) }, reader));
    return pending;
  }

  /**
   * The pending records per sink, as queues: one per incident (`orderKey`), each in order, the
   * queues ordered by their first record. A sink drains its queues so none overtakes its own.
   */
  async queues(sinks?: readonly SinkName[]): Promise<Map<SinkName, StoredItem<DeliveryRecord>[][]>> {
    const bySink = new Map<SinkName, StoredItem<DeliveryRecord>[]>();
    for (const item of await this.records(sinks)) {
      const records = bySink.get(item.value.sink) ?? [];
      bySink.set(item.value.sink, records);
      records.push(item);
    }
    return new Map([...bySink].map(([sink, records]) => [sink, asQueues(records)]));
  }
}
