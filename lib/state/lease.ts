/**
 * A single-flight lease over any StateStore: at most one holder runs rotation at
 * a time, across timer invocations, instances and the CLI. Taken with
 * conditional writes, so of two concurrent acquirers exactly one wins; a
 * lease whose holder died expires after its TTL and can be taken over (again
 * conditionally, on the etag of the expired record).
 *
 * A corrupt lease never blocks rotation, and is never deleted blindly: one that
 * is JSON but not a lease is taken over like an expired one (ifMatch on its
 * etag); one that is not even JSON the store quarantines on read, removing it
 * only if unchanged, and it then reads as absent, so it is taken with a create
 * (ifNotExists). Either way two racers cannot both win.
 */
import type { Clock } from "../clock.js";
import type { Collection, StateStore } from "./store.js";

export const LEASE_COLLECTION: Collection = "rotation";

/** What the store holds under `lease:<name>`. */
export interface LeaseRecord {
  holder: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface LeaseOptions {
  /** Who is asking: unique per attempt (e.g. invocation id), shown to whoever is refused. */
  holder: string;
  ttlMs: number;
  clock: Clock;
}

export interface Lease {
  readonly name: string;
  readonly holder: string;
  /** When the lease lapses (and can be taken over). */
  readonly expiresAt: Date;
  /** Gives the lease up. False: it was no longer ours (taken over, or already released). */
  release(): Promise<boolean>;
}

export function leaseKey(name: string): string {
  return `lease:${name}`;
}

/**
 * Takes the lease `name`, or returns undefined when someone else holds an
 * unexpired one (or won the race for it just now).
 */
export async function acquireLease(
  store: StateStore,
  name: string,
  options: LeaseOptions,
): Promise<Lease | undefined> {
  if (name === "") throw new TypeError("acquireLease: the lease needs a name.");
  if (options.holder === "") throw new TypeError("acquireLease: holder must identify the caller.");
  if (!(Number.isFinite(options.ttlMs) && options.ttlMs > 0)) {
    throw new RangeError(
      `acquireLease: ttlMs must be a positive number of milliseconds, got ${options.ttlMs}.`,
    );
  }
  const key = leaseKey(name);
  const now = options.clock.now();
  const record: LeaseRecord = {
    holder: options.holder,
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + options.ttlMs).toISOString(),
  };
  const current = await store.get<unknown>(LEASE_COLLECTION, key);
  if (current !== undefined && isLive(current.value, now.getTime())) return undefined;
  const result =
    current === undefined
      ? await store.put(LEASE_COLLECTION, key, record, { ifNotExists: true })
      : await store.put(LEASE_COLLECTION, key, record, { ifMatch: current.etag });
  if (!result.ok) return undefined;
  return new StoredLease(store, name, record, result.etag);
}

class StoredLease implements Lease {
  readonly name: string;
  readonly holder: string;
  readonly #store: StateStore;
  readonly #record: LeaseRecord;
  /** Undefined once released. */
  #etag: string | undefined;

  constructor(store: StateStore, name: string, record: LeaseRecord, etag: string) {
    this.name = name;
    this.holder = record.holder;
    this.#store = store;
    this.#record = record;
    this.#etag = etag;
  }

  get expiresAt(): Date {
    return new Date(this.#record.expiresAt);
  }

  async release(): Promise<boolean> {
    const etag = this.#etag;
    if (etag === undefined) return false;
    this.#etag = undefined;
    return this.#store.delete(LEASE_COLLECTION, leaseKey(this.name), { ifMatch: etag });
  }
}

/** Held and unexpired. A record that is not a lease (edited by hand, cut short) counts as expired. */
function isLive(value: unknown, nowMs: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { holder, expiresAt } = value as Partial<LeaseRecord>;
  if (typeof holder !== "string" || typeof expiresAt !== "string") return false;
  const ms = Date.parse(expiresAt);
  return !Number.isNaN(ms) && ms > nowMs;
}
