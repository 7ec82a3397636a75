/**
 * Records a store cannot read (cut short by a crash, edited by hand) are moved
 * aside into the `quarantine` collection instead of failing every reader: one
 * corrupt delivery or event must not stop every sweep and every alert. The raw
 * text is kept there for a person to inspect; the pass learns of it from
 * `store.list("quarantine")` and raises an incident.
 *
 * Imports only `node:` modules at runtime (see file-store.ts).
 */
import { createHash } from "node:crypto";
import type { Logger } from "../logger.js";
import type { Collection, StateStore } from "./store.js";

export const QUARANTINE: Collection = "quarantine";

/** What `quarantine/<key>` holds. */
export interface QuarantinedRecord {
  /** Where the record was, and under which key. */
  collection: Collection;
  key: string;
  /** Why it could not be read ("not valid JSON", …): never a piece of the content. */
  reason: string;
  /** The stored text as found, cut to fit the store's item size (see `rawChars`). */
  raw: string;
  /** Length of the full raw text; larger than `raw.length` when it was cut. */
  rawChars: number;
  /** ISO 8601. */
  quarantinedAt: string;
}

/** A record found unreadable: `version` (an etag, or the raw text itself) tells its versions apart. */
export interface UnreadableRecord {
  collection: Collection;
  key: string;
  reason: string;
  raw: string;
  version: string;
}

export interface QuarantineIo {
  logger: Logger | undefined;
  now: () => Date;
  /** Largest `JSON.stringify` length of a quarantine record the store can hold (Infinity: no limit). */
  maxJsonChars: number;
}

/**
 * One quarantine key per version of a corrupt record, so that two readers
 * finding the same record at once (two passes, a list and a get) file it once.
 */
export function quarantineKey(collection: Collection, key: string, version: string): string {
  return `${collection}/${key}#${createHash("sha256").update(version).digest("hex").slice(0, 16)}`;
}

/**
 * Copies `found` into quarantine (create-if-absent), then calls `removeIfUnchanged`,
 * which must delete the record only if it is still this very version: a good
 * write that replaced it in the meantime stays. Copy first, so a crash between
 * the two leaves the record in both places (the next reader finishes the move),
 * never in neither.
 */
export async function moveToQuarantine(
  store: Pick<StateStore, "put" | "description">,
  io: QuarantineIo,
  found: UnreadableRecord,
  removeIfUnchanged: () => Promise<boolean>,
): Promise<void> {
  const where = `${found.collection}/${found.key}`;
  if (found.collection === QUARANTINE) {
    // Moving it would nest quarantine in quarantine; skipping it is enough.
    io.logger?.warn(
      `State store ${store.description}: skipped unreadable quarantine record ${found.key} (${found.reason}). ` +
        `Inspect it and delete it by hand.`,
    );
    return;
  }
  const key = quarantineKey(found.collection, found.key, found.version);
  await store.put(QUARANTINE, key, quarantineRecord(found, io), { ifNotExists: true });
  if (!(await removeIfUnchanged())) return; // another reader moved it, or a good write replaced it
  // The key and reason only: the content may hold anything.
  io.logger?.warn(
    `State store ${store.description}: moved unreadable record ${where} (${found.reason}) to quarantine/${key} ` +
      `and carried on without it. It was cut short by a crash or edited by hand; inspect it there, ` +
      `restore the item if it matters, then delete the quarantine entry.`,
  );
}

function quarantineRecord(found: UnreadableRecord, io: QuarantineIo): QuarantinedRecord {
  const record: QuarantinedRecord = {
    collection: found.collection,
    key: found.key,
    reason: found.reason,
    raw: found.raw,
    rawChars: found.raw.length,
    quarantinedAt: io.now().toISOString(),
  };
  // Escaping can grow the text up to six-fold (control characters), so measure, don't estimate.
  while (record.raw !== "" && JSON.stringify(record).length > io.maxJsonChars) {
    record.raw = record.raw.slice(0, Math.floor(record.raw.length / 2));
  }
  return record;
}
