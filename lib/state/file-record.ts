/**
 * One state file: its name for a key, its JSON shape, and reading and writing
 * it durably. Imports only `node:` modules (see file-store.ts).
 */
import { createHash, randomUUID } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { closeFd, fsyncFd, openFd, readFd, unlinkPath, writeAllFd } from "./fd-calls.js";

// File systems cap a name at 255 bytes; leave room for the lock and temp affixes.
const MAX_NAME_CHARS = 200;
export const SUFFIX = ".json";

/** What one file holds. The key is kept too: long keys are hashed into the file name. */
export interface FileRecord {
  key: string;
  etag: string;
  value: unknown;
}

/** A state file that is not what this store writes (truncated by a crash, or edited by hand). */
export interface UnreadableFile {
  /** Why, in words that hold none of the content (a JSON.parse message quotes it). */
  unreadable: string;
  raw: string;
}

export function isUnreadable(read: FileRecord | UnreadableFile): read is UnreadableFile {
  return "unreadable" in read;
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

/** The file's record, what is wrong with it, or undefined when there is no file. */
export async function readRecord(file: string): Promise<FileRecord | UnreadableFile | undefined> {
  let raw: string;
  try {
    raw = await readText(file);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { unreadable: raw.trim() === "" ? "empty" : "not valid JSON", raw };
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    typeof (parsed as FileRecord).key !== "string" ||
    typeof (parsed as FileRecord).etag !== "string" ||
    !("value" in parsed)
  ) {
    return { unreadable: 'not a state record: expected {"key", "etag", "value"}', raw };
  }
  // A fresh object: a hand-added "unreadable" property must not make it look unreadable.
  const { key, etag, value } = parsed as FileRecord;
  return { key, etag, value };
}

/** The first read's size: every record this product writes fits (a delivery is about 2 KB). */
const FIRST_READ_BYTES = 16 * 1024;

/**
 * A file's text in three trips through libuv's thread pool (open, read, close), where `readFile`
 * makes five (it asks for the size first, and reads once more to find the end). On a regular file
 * a read returns fewer bytes than asked only at the end (libuv retries an interrupted read).
 * The descriptor keeps the file it opened: a write renamed over it meanwhile is not mixed in.
 */
async function readText(file: string): Promise<string> {
  const fd = await openFd(file, "r");
  try {
    const chunks: Buffer[] = [];
    for (let size = FIRST_READ_BYTES; ; size *= 2) {
      const buffer = Buffer.allocUnsafe(size);
      const bytesRead = await readFd(fd, buffer, size);
      chunks.push(buffer.subarray(0, bytesRead));
      if (bytesRead < size) break;
    }
    return chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
  } finally {
    await closeFd(fd);
  }
}

/**
 * The key a file name stands for, for a file whose content (which holds the
 * key) cannot be read. A long key's name is a prefix and a hash: that name is
 * the best there is.
 */
export function keyOfFileName(name: string): string {
  const encoded = name.endsWith(SUFFIX) ? name.slice(0, -SUFFIX.length) : name;
  if (encoded.includes("~")) return encoded;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/**
 * A temp file is opened for synchronized data writes where the platform has the flag (POSIX; not
 * Windows): each write returns once its data, and the size that reads it back, are on the disk, as
 * after fdatasync. That saves the fsync's own trip through libuv's thread pool on every write.
 */
const DSYNC: number | undefined = constants.O_DSYNC;
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (DSYNC ?? 0);

/** Writes (durably) a temp file next to `file`, creating the directory if needed. Returns its path. */
export async function writeTemp(file: string, record: FileRecord): Promise<string> {
  const text = Buffer.from(`${JSON.stringify(record, null, 2)}\n`, "utf8");
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
  let fd;
  try {
    fd = await openFd(temp, TEMP_FLAGS, 0o600);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
    // First write to this collection (or the directory was removed): create it.
    await fs.mkdir(path.dirname(file), { recursive: true });
    fd = await openFd(temp, TEMP_FLAGS, 0o600);
  }
  try {
    await writeAllFd(fd, text);
    if (DSYNC === undefined) await fsyncFd(fd);
  } catch (error) {
    await closeFd(fd);
    await removeIfThere(temp);
    throw error;
  }
  await closeFd(fd);
  return temp;
}

/** Makes a rename or unlink durable: the directory entry is flushed too (POSIX; a no-op elsewhere). */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const fd = await openFd(dir, "r");
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/** Unlinks `file`; already gone is fine. (`fs.rm` with `force` stats it first: one more trip through libuv's pool.) */
export async function removeIfThere(file: string): Promise<void> {
  try {
    await unlinkPath(file);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opaque and never reused, so a delete-and-recreate cannot revive a stale etag. A random UUID
 * (122 random bits) comes from Node's pooled entropy; randomBytes costs several times as much per
 * call, and every durable write makes one etag, one temp name and one lock token.
 */
export function newEtag(): string {
  return `${Date.now().toString(36)}-${randomUUID()}`;
}

export function toJsonValue(value: unknown): unknown {
  if (value === undefined || typeof value === "function" || typeof value === "symbol") {
    throw new TypeError("A state value must be JSON (an object, array, string, number, boolean or null).");
  }
  return value;
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
