/**
 * State in a directory, for the CLI and laptops: one sub-directory per
 * collection, one JSON file per key. Conditional writes hold across processes
 * (a cron'd CLI and a `serve` on the same machine), not just within one:
 * creates are an atomic `link()` that fails if the file exists, and
 * compare-and-swap runs under a per-key lock file opened with `wx`.
 *
 * This file imports nothing at runtime but `node:` modules, so child processes
 * in tests can load it with Node's type stripping.
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type {
  Collection,
  DeleteOptions,
  StateStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from "./store.js";

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

/** What one file holds. The key is kept too: long keys are hashed into the file name. */
interface FileRecord {
  key: string;
  etag: string;
  value: unknown;
}

/** A state file that is not what this store writes (truncated by a crash, or edited by hand). */
export class CorruptStateFileError extends Error {
  override name = "CorruptStateFileError";
  readonly file: string;

  constructor(file: string, reason: string) {
    super(
      `State file ${file} is unreadable (${reason}): it was cut short by a crash or edited by hand. ` +
        `Delete it to start that item afresh, or restore it from a backup.`,
    );
    this.file = file;
  }
}

const DEFAULT_STALE_LOCK_MS = 30_000;
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
// File systems cap a name at 255 bytes; leave room for the lock and temp affixes.
const MAX_NAME_CHARS = 200;
const SUFFIX = ".json";
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
    const temp = await this.#writeTemp(file, { key, etag, value: toJsonValue(value) });
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

  async #writeTemp(file: string, record: FileRecord): Promise<string> {
    const text = `${JSON.stringify(record, null, 2)}\n`;
    const temp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`,
    );
    let handle;
    try {
      handle = await fs.open(temp, "wx", 0o600);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
      // First write to this collection (or the directory was removed): create it.
      await fs.mkdir(path.dirname(file), { recursive: true });
      handle = await fs.open(temp, "wx", 0o600);
    }
    try {
      await handle.writeFile(text);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await fs.rm(temp, { force: true });
      throw error;
    }
    await handle.close();
    return temp;
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
      const token = await this.#lock(lock);
      try {
        return await fn();
      } finally {
        await unlock(lock, token);
      }
    } finally {
      done();
      if (this.#queues.get(file) === tail) this.#queues.delete(file);
    }
  }

  async #lock(lock: string): Promise<string> {
    const token = `${process.pid} ${randomBytes(8).toString("hex")}`;
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.writeFile(lock, token, { flag: "wx", mode: 0o600 });
        return token;
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOENT") {
          await fs.mkdir(path.dirname(lock), { recursive: true });
          continue;
        }
        if (code !== "EEXIST") throw error;
      }
      if (await breakIfStale(lock, this.#staleLockMs)) continue;
      if (Date.now() >= deadline) {
        throw new Error(
          `Waited ${Math.round(this.#lockTimeoutMs / 1000)} s for the lock ${lock}: another watchdog process ` +
            `is writing this item. If no other watchdog is running, delete the lock file.`,
        );
      }
      // Short, growing, jittered waits: a holder keeps the lock for a few milliseconds.
      const wait = Math.min(2 ** attempt, 50);
      await new Promise((resolve) => setTimeout(resolve, wait / 2 + Math.random() * wait));
    }
  }
}

/**
 * File name for a key: letters a–z, digits, "-" and "_" as they are; everything
 * else (uppercase too, for case-insensitive file systems) as %XX of its UTF-8
 * bytes, so `decodeURIComponent` reverses it. Long keys keep a readable prefix
 * and a hash; the file holds the full key either way.
 */
export function fileName(key: string): string {
  if (typeof key !== "string" || key === "") throw new TypeError("A state key must be a non-empty string.");
  let name = "";
  for (const byte of Buffer.from(key, "utf8")) {
    const ch = String.fromCharCode(byte);
    name += /[a-z0-9_-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (name.length > MAX_NAME_CHARS) {
    // "~" never appears in an encoded name ("~" itself encodes to %7E).
    name = `${name.slice(0, 120).replace(/%[0-9A-F]?$/, "")}~${createHash("sha256").update(key).digest("hex")}`;
  }
  return `${name}${SUFFIX}`;
}

async function readRecord(file: string): Promise<FileRecord | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CorruptStateFileError(
      file,
      text.trim() === "" ? "empty" : `not valid JSON: ${(error as Error).message}`,
    );
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    typeof (parsed as FileRecord).key !== "string" ||
    typeof (parsed as FileRecord).etag !== "string" ||
    !("value" in parsed)
  ) {
    throw new CorruptStateFileError(file, 'not a state record: expected {"key", "etag", "value"}');
  }
  return parsed as FileRecord;
}

/** Breaks a lock left by a dead writer. True when the caller should retry at once. */
async function breakIfStale(lock: string, staleMs: number): Promise<boolean> {
  let seen;
  try {
    seen = await fs.stat(lock);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  if (Date.now() - seen.mtimeMs < staleMs) return false;
  // Move it aside rather than unlink: if another process broke it and took a
  // fresh lock since our stat, we can tell (different inode) and put theirs back.
  const aside = `${lock}.${randomBytes(6).toString("hex")}.stale`;
  try {
    await fs.rename(lock, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  const moved = await fs.stat(aside);
  if (moved.ino !== seen.ino || moved.mtimeMs !== seen.mtimeMs) {
    await fs.link(aside, lock).catch(() => undefined); // fails only if a newer lock exists: fine either way
  }
  await fs.rm(aside, { force: true });
  return true;
}

async function unlock(lock: string, token: string): Promise<void> {
  // Only remove our own lock: if we stalled past the stale period, it may be someone else's now.
  const content = await fs.readFile(lock, "utf8").catch(() => undefined);
  if (content === token) await fs.rm(lock, { force: true });
}

/** Makes a rename or unlink durable: the directory entry is flushed too (POSIX; a no-op elsewhere). */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Opaque and never reused, so a delete-and-recreate cannot revive a stale etag. */
function newEtag(): string {
  return `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}`;
}

function toJsonValue(value: unknown): unknown {
  if (value === undefined || typeof value === "function" || typeof value === "symbol") {
    throw new TypeError("A state value must be JSON (an object, array, string, number, boolean or null).");
  }
  return value;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
