/**
 * The `outbox` collection: what is left to send, so that a drain costs that and
 * not the settled records `deliveries` keeps for the idempotency window.
 *
 * One entry per notification with a record pending, naming the sinks it has
 * records for; the records themselves, one per sink in `deliveries`, stay the
 * truth (claims and settlements are conditional writes on them). One entry a
 * notification, not one a record: a notification for four sinks used to cost
 * eight writes here (an entry each, and its removal), now two. The entry goes
 * when every record of it has settled: the process that settles the last one
 * knows it from memory, and a reader that finds none pending drops it (after a
 * crash, or when another process settled some). An entry left behind is
 * harmless; a record pending with no entry would wait for the daily upkeep, so
 * an entry is removed only when every record it names is known settled.
 *
 * State written before this form has one entry per record, keyed by the
 * delivery id; those are read and dropped as before. Entries under
 * `UNSENT_PREFIX` are the incidents' own listing (`unsent-incidents.ts`) and
 * are not read here.
 */
import { createHash } from "node:crypto";
import type { StateStore, StoredItem } from "../state/store.js";
import { asQueues, deliveryIdOf, type DeliveryRecord } from "./delivery-record.js";
import type { Notification, SinkName } from "./incident.js";
import { isUnsentEntryKey } from "./unsent-incidents.js";

/** Keys of notification entries; delivery ids are hex and unsent keys start "unsent~", so neither does. */
const NOTIFICATION_PREFIX = "notification~";
/** Records read at once while following the entries (one round trip each). */
const READ_CONCURRENCY = 8;
/** Writes to one entry contended this many times in a row give up (the caller's retry lists it). */
const MAX_WRITE_ATTEMPTS = 10;
/** Past this many notifications in flight, new ones are left to the readers to drop. */
const MAX_TRACKED = 50_000;

/** A notification's entry. */
interface NotificationEntry {
  notification: string;
  /** The sinks it has records for (every record that was pending when it was listed). */
  sinks: SinkName[];
  createdAt: string;
}

/** The entry of state written before one a notification: one per record, keyed by its delivery id. */
interface RecordEntry {
  sink: SinkName;
  createdAt: string;
}

type Entry = NotificationEntry | RecordEntry;

/** A notification whose entry this process wrote: the sinks whose records it has not seen settle yet. */
interface InFlight {
  remaining: Set<SinkName>;
  /** The entry as written: one changed since (a sink added) is not removed on this process's word. */
  etag: string;
}

export function notificationEntryKey(notificationId: string): string {
  return NOTIFICATION_PREFIX + createHash("sha256").update(notificationId).digest("hex").slice(0, 32);
}

function isNotificationEntry(entry: Entry): entry is NotificationEntry {
  return "notification" in entry;
}

export class PendingDeliveries {
  readonly #store: StateStore;
  readonly #inFlight = new Map<string, InFlight>();

  constructor(store: StateStore) {
    this.#store = store;
  }

  /**
   * Lists `notification` as pending, after its records were written: `sinks` are those whose
   * records are pending. Idempotent.
   */
  async list(notification: Notification, sinks: readonly SinkName[]): Promise<void> {
    const key = notificationEntryKey(notification.id);
    const created = await this.#ensure(key, notification.id, sinks, notification.createdAt);
    // Only an entry this process wrote is known to name no other sink's record.
    if (created !== undefined && (this.#inFlight.size < MAX_TRACKED || this.#inFlight.has(key))) {
      this.#inFlight.set(key, { remaining: new Set(sinks), etag: created });
    }
  }

  /** Lists one pending record (the daily upkeep's find). Idempotent. */
  async add(record: DeliveryRecord): Promise<void> {
    const { notification } = record;
    await this.#ensure(
      notificationEntryKey(notification.id),
      notification.id,
      [record.sink],
      record.createdAt,
    );
  }

  /** After a record settled: its notification's entry goes once every record of it has. */
  async settled(record: DeliveryRecord): Promise<void> {
    const key = notificationEntryKey(record.notification.id);
    const inFlight = this.#inFlight.get(key);
    if (inFlight === undefined) {
      // Listed by another process, or before this form (an entry of its own, under its id).
      await this.#store.delete("outbox", record.id);
      return;
    }
    inFlight.remaining.delete(record.sink);
    if (inFlight.remaining.size > 0) return;
    this.#inFlight.delete(key);
    await this.#store.delete("outbox", key, { ifMatch: inFlight.etag });
  }

  /**
   * Makes the notification's entry name `sinks`: creates it, or adds those it lacks (a record made
   * after it was listed: a sink configured since, or one the upkeep found). The etag if it created it.
   */
  async #ensure(
    key: string,
    notification: string,
    sinks: readonly SinkName[],
    createdAt: string,
  ): Promise<string | undefined> {
    const entry: NotificationEntry = { notification, sinks: [...sinks], createdAt };
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const written = await this.#store.put("outbox", key, entry, { ifNotExists: true });
      if (written.ok) return written.etag;
      const current = await this.#store.get<Entry>("outbox", key);
      if (current === undefined) continue; // removed meanwhile: create it again
      const named = isNotificationEntry(current.value) ? current.value.sinks : [];
      if (sinks.every((sink) => named.includes(sink))) return undefined;
      const merged: NotificationEntry = {
        notification,
        sinks: [...new Set([...named, ...sinks])],
        createdAt,
      };
      if ((await this.#store.put("outbox", key, merged, { ifMatch: current.etag })).ok) {
        this.#inFlight.delete(key); // it names records this process did not write
        return undefined;
      }
    }
    throw new Error(
      `Alert ${notification}: its outbox entry changed ${MAX_WRITE_ATTEMPTS} times in a row while being listed; the next pass lists it.`,
    );
  }

  /** The delivery ids listed as pending. */
  async ids(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const entry of this.#store.list<Entry>("outbox")) {
      if (isUnsentEntryKey(entry.key)) continue;
      if (!isNotificationEntry(entry.value)) ids.add(entry.key);
      else for (const sink of entry.value.sinks) ids.add(deliveryIdOf(entry.value.notification, sink));
    }
    return ids;
  }

  /**
   * Every pending record (of `sinks`, if given), read through the entries. An entry with no record
   * pending (a crash between settling and removing, or records settled by another process) is
   * dropped, when every sink it names was read.
   */
  async records(sinks?: readonly SinkName[]): Promise<StoredItem<DeliveryRecord>[]> {
    const entries: StoredItem<Entry>[] = [];
    for await (const entry of this.#store.list<Entry>("outbox")) {
      if (isUnsentEntryKey(entry.key)) continue;
      // The entry names its sinks: another sink's record is not read at all.
      const named = isNotificationEntry(entry.value) ? entry.value.sinks : [entry.value.sink];
      if (sinks === undefined || named.some((sink) => sinks.includes(sink))) entries.push(entry);
    }
    const pending: StoredItem<DeliveryRecord>[] = [];
    let next = 0;
    const reader = async (): Promise<void> => {
      for (let entry = entries[next++]; entry !== undefined; entry = entries[next++]) {
        const found = await this.#follow(entry, sinks);
        pending.push(...found.pending);
        if (found.pending.length === 0 && found.whole) {
          await this.#store.delete("outbox", entry.key, { ifMatch: entry.etag });
        }
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

  /**
   * An entry's pending records of `sinks`, and whether it can go: every record it names was read
   * (or seen to settle here) and none is pending. Records this process saw settle are not read again.
   */
  async #follow(
    entry: StoredItem<Entry>,
    sinks: readonly SinkName[] | undefined,
  ): Promise<{ pending: StoredItem<DeliveryRecord>[]; whole: boolean }> {
    const value = entry.value;
    if (!isNotificationEntry(value)) {
      const item = await this.#store.get<DeliveryRecord>("deliveries", entry.key);
      return { pending: item?.value.state === "pending" ? [item] : [], whole: true };
    }
    const asked = (sink: SinkName) => sinks === undefined || sinks.includes(sink);
    // Tracked here and unchanged since: only the sinks not yet seen to settle. Otherwise every one.
    const tracked = this.#inFlight.get(entry.key);
    const inFlight = tracked?.etag === entry.etag ? tracked : undefined;
    const open = inFlight?.remaining ?? new Set(value.sinks);
    const pending: StoredItem<DeliveryRecord>[] = [];
    for (const sink of [...open].filter(asked)) {
      const item = await this.#store.get<DeliveryRecord>(
        "deliveries",
        deliveryIdOf(value.notification, sink),
      );
      if (item?.value.state === "pending") pending.push(item);
      else open.delete(sink); // settled (which is final) or gone
    }
    const whole = open.size === 0;
    if (whole) this.#inFlight.delete(entry.key);
    return { pending, whole };
  }
}
