/**
 * Cross-process locks for the directory store: a lock created only if none
 * exists, holding a token, broken when older than the stale period (its
 * writer died), or sooner when the process its token names is provably gone
 * (lock-holder.ts).
 *
 * A lock is a symbolic link whose target is the token: `symlink()` creates it
 * with its token in one call, or fails if it exists. A lock file opened with
 * `wx` and then written took three calls, and a writer killed between the
 * first and the second left a lock with no token, which nobody could judge
 * and which held its key for the whole stale period (test/e2e/outbox-crash).
 * Where symlinks cannot be made (Windows without the privilege, FAT, some
 * network shares) the lock is such a file; readers take either kind.
 * Imports only `node:` modules and its siblings (see file-store.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { closeFd, openFd, readlinkPath, symlinkPath, writeAllFd } from "./fd-calls.js";
import { errorCode, removeIfThere } from "./file-record.js";
import { lockHolderGone, lockToken } from "./lock-holder.js";

/**
 * A live writer holds a lock for one read-compare-rename, milliseconds even on a slow disk: a lock
 * this old is worth asking who holds it (three more trips through libuv's pool, so not at once).
 */
const DEFAULT_HOLDER_CHECK_MS = 1_000;

/** A lock file this process holds: what `unlockFile` needs to remove it, and only it. */
export interface HeldLock {
  path: string;
  token: string;
  /** `Date.now()` before the lock file was created: its mtime is no earlier. */
  takenAt: number;
  staleLockMs: number;
  /** A symbolic link (its target the token), or a file holding the token. */
  symlink: boolean;
}

/** Errors of a file system that cannot make symbolic links: such a process takes lock files instead. */
const NO_SYMLINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);
let symlinks = process.platform !== "win32";

/** Takes the lock file `lock`, waiting (short, growing, jittered waits) up to `lockTimeoutMs`. */
export async function takeFileLock(
  lock: string,
  staleLockMs: number,
  lockTimeoutMs: number,
  holderCheckMs = DEFAULT_HOLDER_CHECK_MS,
): Promise<HeldLock> {
  // randomUUID, as for the record's temp name and etag: Node serves it from pooled entropy (about
  // 1 µs), where each randomBytes call asks OpenSSL (about 7 µs on the bench VM), on every write.
  const token = lockToken(randomUUID());
  const deadline = Date.now() + lockTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    const takenAt = Date.now();
    try {
      const symlink = await createLock(lock, token);
      return { path: lock, token, takenAt, staleLockMs, symlink };
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT") {
        await fs.mkdir(path.dirname(lock), { recursive: true });
        continue;
      }
      if (code !== "EEXIST") throw error;
    }
    if (await breakIfAbandoned(lock, staleLockMs, holderCheckMs)) continue;
    if (Date.now() >= deadline) {
      throw new Error(
        `Waited ${Math.round(lockTimeoutMs / 1000)} s for the lock ${lock}: another watchdog process ` +
          `is writing this item. If no other watchdog is running, delete the lock file.`,
      );
    }
    // Short, growing, jittered waits: a holder keeps the lock for a few milliseconds.
    const wait = Math.min(2 ** attempt, 50);
    await new Promise((resolve) => setTimeout(resolve, wait / 2 + Math.random() * wait));
  }
}

/** Creates `lock` holding `token`, a symbolic link where it can be; EEXIST when it is taken. */
async function createLock(lock: string, token: string): Promise<boolean> {
  if (symlinks) {
    try {
      await symlinkPath(token, lock);
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code === undefined || !NO_SYMLINKS.has(code)) throw error;
      symlinks = false;
    }
  }
  await writeLockFile(lock, token);
  return false;
}

/** A lock's token, of either kind; undefined when it cannot be read (gone, or not yet written). */
function tokenOf(lock: string, symlink: boolean): Promise<string | undefined> {
  return (symlink ? readlinkPath(lock) : fs.readFile(lock, "utf8")).catch(() => undefined);
}

/**
 * Creates the lock file `lock` holding `token`; EEXIST when it is taken. A lock file this call
 * created but could not write is removed: left empty, it would hold the key until it went stale.
 */
async function writeLockFile(lock: string, token: string): Promise<void> {
  const fd = await openFd(lock, "wx", 0o600);
  try {
    await writeAllFd(fd, Buffer.from(token, "utf8"));
  } catch (error) {
    await closeFd(fd);
    await removeIfThere(lock);
    throw error;
  }
  await closeFd(fd);
}

/**
 * Breaks a lock left by a dead writer: one older than the stale period, or one at least
 * `holderCheckMs` old whose token names a process that is provably gone. True when the caller
 * should retry at once.
 */
async function breakIfAbandoned(lock: string, staleMs: number, holderCheckMs: number): Promise<boolean> {
  let seen;
  try {
    // lstat: a symbolic link's target is its token, not a file.
    seen = await fs.lstat(lock);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  const age = Date.now() - seen.mtimeMs;
  if (age < staleMs) {
    if (age < holderCheckMs) return false;
    const token = await tokenOf(lock, seen.isSymbolicLink());
    if (token === undefined || !(await lockHolderGone(token, seen.uid))) return false;
  }
  // Move it aside rather than unlink: if another process broke it and took a
  // fresh lock since our stat, we can tell (different inode) and put theirs back.
  const aside = `${lock}.${randomBytes(6).toString("hex")}.stale`;
  try {
    await fs.rename(lock, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
  const moved = await fs.lstat(aside);
  if (moved.ino !== seen.ino || moved.mtimeMs !== seen.mtimeMs) {
    // Put theirs back; this fails only if a newer lock exists: fine either way. A symbolic link is
    // made again from its target (`link()` may follow a symbolic link: macOS does).
    const restore = moved.isSymbolicLink()
      ? readlinkPath(aside).then((token) => symlinkPath(token, lock))
      : fs.link(aside, lock);
    await restore.catch(() => undefined);
  }
  await fs.rm(aside, { force: true });
  return true;
}

/**
 * Removes a lock this process took. A lock is broken only once its mtime is `staleLockMs` old, or
 * when the process its token names is gone, which ours is not (`breakIfAbandoned`); and ours is no
 * older than `takenAt`: released well inside that period, it is certainly still ours, and is removed
 * without reading it back (more trips through libuv's thread pool, on every conditional write).
 * Held longer (a stalled process), it may have been broken and taken by another writer since: it is
 * removed only if it still holds our token.
 */
export async function unlockFile(held: HeldLock): Promise<void> {
  // Half the period: margin for a clock that is not ours (a share's server stamps the mtime).
  if (Date.now() - held.takenAt < held.staleLockMs / 2) {
    await removeIfThere(held.path);
    return;
  }
  if ((await tokenOf(held.path, held.symlink)) === held.token) await removeIfThere(held.path);
}
