/**
 * How a state item is held in Azure Table storage: PartitionKey = collection,
 * RowKey = the encoded key, the value as a JSON string property, within the
 * service's size limits.
 */
import { createHash } from "node:crypto";
import type { Collection } from "./store.js";

/**
 * Largest value accepted, as UTF-16 bytes of its JSON. Table storage caps a
 * string property at 64 KiB of UTF-16 (32 Ki characters); the margin keeps
 * the rest of the entity well inside the limit.
 * https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#property-types
 */
export const MAX_VALUE_BYTES = 60 * 1024;

// A RowKey holds 1 KiB of UTF-16 (512 characters; Azurite enforces it too). Past
// that, a readable prefix plus a hash (the entity keeps the full key).
const MAX_ROW_KEY_CHARS = 512;

export interface StateEntity {
  partitionKey: string;
  rowKey: string;
  /** The original key (RowKey is encoded, and hashed when long). */
  key: string;
  json: string;
}

/**
 * RowKey for a key. Table keys may not hold `/ \ # ?` or control characters,
 * and `%`/`'` trip URL handling in some clients, so only A–Z a–z 0–9 - _ stay
 * as they are and every other UTF-8 byte becomes `~XX`; `decodeRowKey` reverses it.
 */
export function encodeRowKey(key: string): string {
  if (typeof key !== "string" || key === "") throw new TypeError("A state key must be a non-empty string.");
  let encoded = "";
  for (const byte of Buffer.from(key, "utf8")) {
    const ch = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9_-]/.test(ch) ? ch : `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (encoded.length > MAX_ROW_KEY_CHARS) {
    // "~~" never occurs in an encoded key (a "~" is always followed by hex).
    encoded = `${encoded.slice(0, 400).replace(/~[0-9A-F]?$/, "")}~~${createHash("sha256").update(key).digest("hex")}`;
  }
  return encoded;
}

export function decodeRowKey(rowKey: string): string {
  return decodeURIComponent(rowKey.replace(/~/g, "%"));
}

/** The value as JSON, refused (with what to do) when the Table store cannot hold it. */
export function serialize(collection: Collection, key: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) {
    throw new TypeError("A state value must be JSON (an object, array, string, number, boolean or null).");
  }
  const bytes = json.length * 2; // UTF-16, as the service counts
  if (bytes > MAX_VALUE_BYTES) {
    throw new RangeError(
      `State value ${collection}/${key} is ${Math.ceil(bytes / 1024)} KiB as JSON (UTF-16); the Table store ` +
        `takes at most ${MAX_VALUE_BYTES / 1024} KiB per item (a Table string property holds 64 KiB). ` +
        `Store less in one item: split it across keys or drop old history.`,
    );
  }
  return json;
}

/** The stored JSON back as a value, or why it cannot be (in words that hold none of the content). */
export function parseEntityJson<T>(json: unknown): { ok: true; value: T } | { ok: false; reason: string } {
  if (typeof json !== "string")
    return { ok: false, reason: 'no "json" string property: not written by the watchdog' };
  try {
    return { ok: true, value: JSON.parse(json) as T };
  } catch {
    return { ok: false, reason: "invalid JSON: edited by hand" };
  }
}

/** What an unreadable entity held, for quarantine: its JSON text, or its properties when it has none. */
export function rawEntity(entity: Record<string, unknown>): string {
  if (typeof entity.json === "string") return entity.json;
  const { etag: _etag, timestamp: _timestamp, partitionKey: _pk, rowKey: _rk, ...rest } = entity;
  return JSON.stringify(rest);
}

/** The key an entity stands for: its own `key`, or else its RowKey decoded (as is, for a hashed one). */
export function keyOfEntity(entity: { key?: unknown; rowKey?: string }): string {
  if (typeof entity.key === "string" && entity.key !== "") return entity.key;
  const rowKey = entity.rowKey ?? "";
  try {
    return decodeRowKey(rowKey);
  } catch {
    return rowKey;
  }
}
