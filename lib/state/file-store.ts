/**
 * State in a directory, for the CLI and laptops: one sub-directory per
 * collection, one JSON file per key. Conditional writes hold across processes
 * (a cron'd CLI and a `serve` on the same machine), not just within one:
 * creates are an atomic `link()` that fails if the file exists, and
 * compare-and-swap runs under a per-key lock file opened with `wx`.
 *
 * This file and its siblings (`file-record.ts`, `file-lock.ts`) import nothing
 * at runtime but `node:` modules and each other, so child processes in tests
 * can load them with Node's type stripping.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { takeFileLock, unlockFile } from "./file-lock.js";
import {
  SUFFIX,
  errorCode,
  exists,
  fileName,
  newEtag,
  readRecord,
  syncDir,
  toJsonValue,
  writeTemp,
} from "./file-record.js";
import type {
  Collection,
  DeleteOptions,
  StateStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from "./store.js";

export { CorruptStateFileError, fileName } from "./file-record.js";

export interface FileStateStoreOptions {
  /**
   * A lock file older than this was left by a writer that died; it is broken.
   * A live writer holds a lock for one read-compare-rename (milliseconds).
   * Default 30 s.
   */
  staleLockMs?: number;
  /** Give up waiting for a key's lock after this long. Default 60 s (two stale periods). */
  lockTimeoutMs?: number;
}

const DEFAULT_STALE_LOCK_MS = 30_000;
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
// link() is unsupported on some mounts (FAT, some network shares): fall back to create-under-lock.
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"]);

/** A `StateStore` over a directory (`new FileStateStore(".watchdog")`). */
export class FileStateStore implements StateStore {
  readonly description: string;
  readonly #dir: string;
  readonly #staleLockMs: number;
  readonly #lockTimeoutMs: number;
  /** In-process queue per file, so one process's writers wait in line instead of spinning on the lock file. */
  readonly #queues = new Map<string, Promise<void>>();

  constructor(dir: string, options: FileStateStoreOptions = {}) {
    if (dir === "") throw new TypeError("FileStateStore needs a directory; set WATCHDOG_STATE_DIR.");
    this.#dir = path.resolve(dir);
    this.#staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.description = `dir ${dir}`;
  }

  async get<T>(collection: Collection, key: string): Promise<StoredItem<T> | undefined> {
    const record = await readRecord(this.#file(collection, key));
    return record === undefined ? undefined : { key, value: record.value as T, etag: record.etag };
  }

  async put<T>(
    collection: Collection,
    key: string,
    value: T,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    if (options.ifNotExists && options.ifMatch !== undefined) {
      throw new TypeError("put: pass ifMatch (update) or ifNotExists (create), not both.");
    }
    const file = this.#file(collection, key);
    const etag = newEtag();
    // The temp file is written (and fsynced) before taking the lock, so the lock
    // is held only for read-compare-rename.
    const temp = await writeTemp(file, { key, etag, value: toJsonValue(value) });
    try {
      if (options.ifNotExists) {
        const created = await this.#create(temp, file);
        if (!created) return { ok: false };
      } else {
        const done = await this.#withLock(file, async () => {
          if (options.ifMatch !== undefined) {
            const current = await readRecord(file);
            if (current?.etag !== options.ifMatch) return false;
          }
          await fs.rename(temp, file);
          return true;
        });
        if (!done) return { ok: false };
      }
      await syncDir(path.dirname(file));
      return { ok: true, etag };
    } finally {
      // Gone after a rename; a second name for the file after a link; unused otherwise.
      await fs.rm(temp, { force: true });
    }
  }

  async delete(collection: Collection, key: string, options: DeleteOptions = {}): Promise<boolean> {
    const file = this.#file(collection, key);
    // Nothing to delete: skip the lock (and creating the collection's directory for it).
    if (!(await exists(file))) return false;
    const deleted = await this.#withLock(file, async () => {
      if (options.ifMatch !== undefined) {
        const current = await readRecord(file);
        if (current?.etag !== options.ifMatch) return false;
      }
      try {
        await fs.unlink(file);
        return true;
      } catch (error) {
        if (errorCode(error) === "ENOENT") return false;
        throw error;
      }
    });
    if (deleted) await syncDir(path.dirname(file));
    return deleted;
  }

  async *list<T>(collection: Collection): AsyncIterable<StoredItem<T>> {
    const dir = path.join(this.#dir, collection);
    let handle;
    try {
      handle = await fs.opendir(dir);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return;
      throw error;
    }
    // Encoded names never start with "."; temp files do, lock files end in ".lock".
    for await (const entry of handle) {
      if (entry.name.startsWith(".") || !entry.name.endsWith(SUFFIX)) continue;
      const record = await readRecord(path.join(dir, entry.name));
      // Deleted between the directory read and the file read: no longer part of the collection.
      if (record === undefined) continue;
      yield { key: record.key, value: record.value as T, etag: record.etag };
    }
  }

  #file(collection: Collection, key: string): string {
    return path.join(this.#dir, collection, fileName(key));
  }

  /** Creates `file` from `temp` only if it does not exist: atomic across processes. */
  async #create(temp: string, file: string): Promise<boolean> {
    try {
      await fs.link(temp, file);
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code === "EEXIST") return false;
      if (code === undefined || !NO_HARD_LINKS.has(code)) throw error;
    }
    // Every other writer of this file holds its lock, so check-then-rename under it is atomic too.
    return this.#withLock(file, async () => {
      if (await exists(file)) return false;
      await fs.rename(temp, file);
      return true;
    });
  }

  /** Runs `fn` holding the file's lock: first this process's queue, then the lock file shared with other processes. */
  async #withLock<R>(file: string, fn: () => Promise<R>): Promise<R> {
    const previous = this.#queues.get(file) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => mine);
    this.#queues.set(file, tail);
    await previous;
    try {
      const lock = `${file}.lock`;
      const token = await takeFileLock(lock, this.#staleLockMs, this.#lockTimeoutMs);
      try {
        return await fn();
      } finally {
        await unlockFile(lock, token);
      }
    } finally {
      done();
      if (this.#queues.get(file) === tail) this.#queues.delete(file);
    }
  }
}
