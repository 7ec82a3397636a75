/**
 * A small in-memory StateStore for tests: etags, conditional writes and deletes as
 * the interface promises, values copied in and out (no shared references), and a
 * yield before every operation so concurrent callers interleave as they would
 * against a real store.
 */
import type {
  Collection,
  DeleteOptions,
  StateStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from "../../../lib/state/store.js";

interface Entry {
  json: string;
  etag: string;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class MemoryStateStore implements StateStore {
  readonly description = "memory";
  readonly #data = new Map<Collection, Map<string, Entry>>();
  #version = 0;
  /** Counts writes per collection, for tests that assert "no write happened". */
  readonly writes: Record<string, number> = {};

  #collection(collection: Collection): Map<string, Entry> {
    let map = this.#data.get(collection);
    if (map === undefined) {
      map = new Map();
      this.#data.set(collection, map);
    }
    return map;
  }

  async get<T>(collection: Collection, key: string): Promise<StoredItem<T> | undefined> {
    await tick();
    const entry = this.#collection(collection).get(key);
    return entry === undefined ? undefined : { key, value: JSON.parse(entry.json) as T, etag: entry.etag };
  }

  async put<T>(
    collection: Collection,
    key: string,
    value: T,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    await tick();
    const map = this.#collection(collection);
    const existing = map.get(key);
    if (options.ifNotExists && existing !== undefined) return { ok: false };
    if (options.ifMatch !== undefined && existing?.etag !== options.ifMatch) return { ok: false };
    const etag = `W/"${++this.#version}"`;
    map.set(key, { json: JSON.stringify(value), etag });
    this.writes[collection] = (this.writes[collection] ?? 0) + 1;
    return { ok: true, etag };
  }

  async delete(collection: Collection, key: string, options: DeleteOptions = {}): Promise<boolean> {
    await tick();
    const map = this.#collection(collection);
    const existing = map.get(key);
    if (existing === undefined) return false;
    if (options.ifMatch !== undefined && existing.etag !== options.ifMatch) return false;
    map.delete(key);
    return true;
  }

  async *list<T>(collection: Collection): AsyncIterable<StoredItem<T>> {
    const snapshot = [...this.#collection(collection).entries()];
    for (const [key, entry] of snapshot) {
      await tick();
      yield { key, value: JSON.parse(entry.json) as T, etag: entry.etag };
    }
  }

  /** Every value of a collection (test inspection). */
  values<T>(collection: Collection): T[] {
    return [...this.#collection(collection).values()].map((e) => JSON.parse(e.json) as T);
  }
}
