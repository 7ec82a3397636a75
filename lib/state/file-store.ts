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
import { linkPath, renamePath, unlinkPath } from "./fd-calls.js";
import { DirSyncs } from "./dir-sync.js";
import { takeFileLock, unlockFile } from "./file-lock.js";
import {
  SUFFIX,
  errorCode,
  exists,
  fileName,
  isUnreadable,
  keyOfFileName,
  newEtag,
  readRecord,
  removeIfThere,
  toJsonValue,
  writeTemp,
  type UnreadableFile,
} from "./file-record.js";
import { moveToQuarantine, type QuarantineIo } from "./quarantine.js";
import type {
  Collection,
  DeleteOptions,
  StateStore,
  StoreIo,
  StoredItem,
  WriteOptions,
  WriteResult,
} from "./store.js";

export { fileName } from "./file-record.js";

export interface FileStateStoreOptions extends StoreIo {
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
  readonly #io: QuarantineIo;
  /** In-process queue per file, so one process's writers wait in line instead of spinning on the lock file. */
  readonly #queues = new Map<string, Promise<void>>();
  /** One directory fsync for the writers that wait at the same time (`dir-sync.ts`). */
  readonly #dirSyncs = new DirSyncs();

  constructor(dir: string, options: FileStateStoreOptions = {}) {
    if (dir === "") throw new TypeError("FileStateStore needs a directory; set WATCHDOG_STATE_DIR.");
    this.#dir = path.resolve(dir);
    this.#staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.description = `dir ${dir}`;
    const clock = options.clock;
    this.#io = {
      logger: options.logger,
      now: clock === undefined ? () => new Date() : () => clock.now(),
      maxJsonChars: Infinity,
    };
  }

  async get<T>(collection: Collection, key: string): Promise<StoredItem<T> | undefined> {
    const file = this.#file(collection, key);
    const record = await readRecord(file);
    if (record === undefined) return undefined;
    if (isUnreadable(record)) {
      await this.#quarantine(collection, key, file, record);
      return undefined;
    }
    return { key, value: record.value as T, etag: record.etag };
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
    // After a rename the temp name is gone: no call to remove it (each is one more trip through libuv's pool).
    const moved = { renamed: false };
    try {
      if (options.ifNotExists) {
        const created = await this.#create(temp, file, moved);
        if (!created) return { ok: false };
      } else {
        const done = await this.#withLock(file, async () => {
          if (options.ifMatch !== undefined && !(await this.#matches(file, options.ifMatch))) return false;
          await renamePath(temp, file);
          moved.renamed = true;
          return true;
        });
        if (!done) return { ok: false };
      }
      await this.#dirSyncs.sync(path.dirname(file));
      return { ok: true, etag };
    } finally {
      // A second name for the file after a link; unused after a refusal.
      if (!moved.renamed) await removeIfThere(temp);
    }
  }

  async delete(collection: Collection, key: string, options: DeleteOptions = {}): Promise<boolean> {
    const file = this.#file(collection, key);
    // Nothing to delete: skip the lock (and creating the collection's directory for it).
    if (!(await exists(file))) return false;
    const deleted = await this.#withLock(file, async () => {
      if (options.ifMatch !== undefined && !(await this.#matches(file, options.ifMatch))) return false;
      try {
        await unlinkPath(file);
        return true;
      } catch (error) {
        if (errorCode(error) === "ENOENT") return false;
        throw error;
      }
    });
    if (deleted) await this.#dirSyncs.sync(path.dirname(file));
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
      const file = path.join(dir, entry.name);
      const record = await readRecord(file);
      // Deleted between the directory read and the file read: no longer part of the collection.
      if (record === undefined) continue;
      if (isUnreadable(record)) {
        await this.#quarantine(collection, keyOfFileName(entry.name), file, record);
        continue;
      }
      yield { key: record.key, value: record.value as T, etag: record.etag };
    }
  }

  #file(collection: Collection, key: string): string {
    return path.join(this.#dir, collection, fileName(key));
  }

  /** An unreadable file matches no etag: nobody was ever given one for it. */
  async #matches(file: string, etag: string): Promise<boolean> {
    const current = await readRecord(file);
    return current !== undefined && !isUnreadable(current) && current.etag === etag;
  }

  /**
   * Moves an unreadable file to quarantine. It is removed under its lock and only
   * if it still holds the same text: every writer renames under that lock, so a
   * good write that landed since is seen and kept.
   */
  async #quarantine(collection: Collection, key: string, file: string, found: UnreadableFile): Promise<void> {
    const unreadable = { collection, key, reason: found.unreadable, raw: found.raw, version: found.raw };
    await moveToQuarantine(this, this.#io, unreadable, async () => {
      const removed = await this.#withLock(file, async () => {
        const current = await readRecord(file);
        if (current === undefined || !isUnreadable(current) || current.raw !== found.raw) return false;
        await unlinkPath(file);
        return true;
      });
      if (removed) await this.#dirSyncs.sync(path.dirname(file));
      return removed;
    });
  }

  /** Creates `file` from `temp` only if it does not exist: atomic across processes. */
  async #create(temp: string, file: string, moved: { renamed: boolean }): Promise<boolean> {
    try {
      await linkPath(temp, file);
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code === "EEXIST") return false;
      if (code === undefined || !NO_HARD_LINKS.has(code)) throw error;
    }
    // Every other writer of this file holds its lock, so check-then-rename under it is atomic too.
    return this.#withLock(file, async () => {
      if (await exists(file)) return false;
      await renamePath(temp, file);
      moved.renamed = true;
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
      const held = await takeFileLock(lock, this.#staleLockMs, this.#lockTimeoutMs);
      try {
        return await fn();
      } finally {
        await unlockFile(held);
      }
    } finally {
      done();
      if (this.#queues.get(file) === tail) this.#queues.delete(file);
    }
  }
}
