/**
 * The incidents whose decided notifications may not be in the outbox yet, so
 * that finishing the copy after a crash (`IncidentManager.flushUnsent`) reads
 * those and not every incident ever opened. Like the pending deliveries
 * (`pending-deliveries.ts`), an entry is only a pointer and the incident record
 * stays the truth; the entries live in the same `outbox` collection, under
 * `UNSENT_PREFIX`, since both say "not yet out".
 *
 * A writer lists the key *before* it writes notifications into the record, and
 * removes the entry only with the etag it wrote (a later writer's listing
 * stays). An entry whose record has nothing unsent is dropped only once it is
 * older than `STALE_AFTER_MS`: a young one may belong to a write in progress.
 * The daily upkeep still reads every incident once, for state written before
 * this index existed.
 */
import type { Clock } from "../clock.js";
import type { StateStore, StoredItem } from "../state/store.js";
import type { IncidentRecord } from "./incident-record.js";
import { claimUpkeep, completeUpkeep } from "./outbox-upkeep.js";

/** Keys of unsent-incident entries in `outbox`; delivery ids are hex, so they never start with it. */
export const UNSENT_PREFIX = "unsent~";
/** A listing older than this whose record has nothing unsent is left over from a crash. */
const STALE_AFTER_MS = 5 * 60_000;
/** The `runs` marker of the daily read of every incident. */
const UPKEEP_KEY = "incidentsUpkeep";

interface UnsentEntry {
  incident: string;
  listedAt: string;
}

export function isUnsentEntryKey(key: string): boolean {
  return key.startsWith(UNSENT_PREFIX);
}

export class UnsentIncidents {
  readonly #store: StateStore;
  readonly #clock: Clock;

  constructor(store: StateStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Lists the incident before notifications are written into it. Returns the listing's etag. */
  async add(storageKey: string): Promise<string> {
    const entry: UnsentEntry = { incident: storageKey, listedAt: this.#clock.now().toISOString() };
    // Unconditional: a fresh etag tells an earlier writer's `remove` that someone listed it again.
    const written = await this.#store.put("outbox", UNSENT_PREFIX + storageKey, entry);
    return written.ok ? written.etag : "";
  }

  /** After the record's notifications reached the outbox: unlisted, unless listed again since. */
  async remove(storageKey: string, etag: string): Promise<void> {
    await this.#store.delete("outbox", UNSENT_PREFIX + storageKey, { ifMatch: etag });
  }

  /**
   * The incidents with notifications still to copy, and the etag of their
   * listing (to `remove` once copied): the listed ones; once a day (the first
   * time, state from before this listing) every incident. Listings of records
   * with nothing unsent are dropped once stale.
   */
  async *due(): AsyncGenerator<{ item: StoredItem<IncidentRecord>; listing?: string }> {
    const upkeep = await claimUpkeep(this.#store, this.#clock, UPKEEP_KEY);
    if (upkeep !== undefined) {
      for await (const item of this.#store.list<IncidentRecord>("incidents")) {
        if (item.value.unsent.length > 0) yield { item };
      }
      await completeUpkeep(this.#store, this.#clock, upkeep, UPKEEP_KEY);
      return;
    }
    const now = this.#clock.now().getTime();
    const listed: StoredItem<UnsentEntry>[] = [];
    for await (const entry of this.#store.list<UnsentEntry>("outbox")) {
      if (isUnsentEntryKey(entry.key)) listed.push(entry);
    }
    for (const entry of listed) {
      const item = await this.#store.get<IncidentRecord>("incidents", entry.value.incident);
      if (item !== undefined && item.value.unsent.length > 0) yield { item, listing: entry.etag };
      else if (isStale(entry, now)) await this.remove(entry.value.incident, entry.etag);
    }
  }
}

function isStale(item: StoredItem<UnsentEntry>, now: number): boolean {
  return now - Date.parse(item.value.listedAt) >= STALE_AFTER_MS;
}
