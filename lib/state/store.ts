/**
 * Durable state: one small interface, two real implementations (Azure Table
 * storage for Azure, a directory for the CLI and laptops). Every write can be
 * conditional, so that of two concurrent writers exactly one wins — the basis of
 * the rotation lease, webhook de-duplication and incident updates.
 *
 * Values are plain JSON. A secret value is never stored (tests scan for it).
 *
 * A record a store cannot read (cut short by a crash, edited by hand) is moved
 * to the `quarantine` collection with a warning (see quarantine.ts) and is then
 * absent: `get` answers undefined and `list` skips it, so one bad record never
 * stops a sweep, a delivery drain or rotation.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";

/** The collections the product keeps. One Table partition / one sub-directory each. */
export type Collection =
  | "runs" // last pass results, for /api/health
  | "events" // accepted webhook notification ids (de-duplication)
  | "incidents" // open and resolved incidents
  | "deliveries" // alert deliveries, pending and settled (settled ones make enqueue idempotent)
  | "outbox" // one small entry per notification with a delivery pending: what a drain reads instead of every delivery
  | "rotation" // rotation records and the single-flight lease
  | "grants" // grants tracked by migration (still on a superseded secret)
  | "quarantine"; // unreadable records moved aside (`QuarantinedRecord`), for the pass to raise an incident

export interface StoredItem<T> {
  key: string;
  value: T;
  /** Opaque version tag; pass it back as `ifMatch` to update only if nobody wrote since. */
  etag: string;
}

export interface WriteOptions {
  /** Write only if the item still has this etag. */
  ifMatch?: string;
  /** Write only if the item does not exist yet (create). */
  ifNotExists?: boolean;
}

/** `ok: false` means the condition failed: someone else wrote first (or the item exists/is gone). */
export type WriteResult = { ok: true; etag: string } | { ok: false };

export interface DeleteOptions {
  ifMatch?: string;
}

/** What a store uses to report and date the records it quarantines. */
export interface StoreIo {
  /** Told (warn) of each record moved to quarantine: its collection, key and why, never its content. */
  logger?: Logger;
  /** Dates quarantine records. Default: the system clock. */
  clock?: Pick<Clock, "now">;
}

export interface StateStore {
  /** A short description for logs and `health` ("table watchdog@…", "dir .watchdog"). Never a secret. */
  readonly description: string;
  /**
   * Undefined when absent, and also when the record is unreadable: it is then
   * quarantined first. Undefined rather than an error because every caller
   * already handles "absent" (and an error would block each of them until a
   * person deleted the record, which is what quarantine replaces); the record
   * is not lost, and the pass raises an incident from `list("quarantine")`.
   */
  get<T>(collection: Collection, key: string): Promise<StoredItem<T> | undefined>;
  /** Unconditional by default; see WriteOptions. `ifMatch` on an unreadable item fails: it matches no etag. */
  put<T>(collection: Collection, key: string, value: T, options?: WriteOptions): Promise<WriteResult>;
  /** Returns false when the item was absent or the etag did not match (an unreadable item matches no etag). */
  delete(collection: Collection, key: string, options?: DeleteOptions): Promise<boolean>;
  /** Every readable item of a collection, streamed (memory stays flat); unreadable ones are quarantined. Order is unspecified. */
  list<T>(collection: Collection): AsyncIterable<StoredItem<T>>;
  /** Releases connections / timers. */
  close?(): Promise<void>;
}
