/**
 * Cross-process locks for the directory store: a lock file created with `wx`
 * (fails if it exists) holding a token, broken when older than the stale
 * period (its writer died). Imports only `node:` modules (see file-store.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { closeFd, openFd, writeAllFd } from "./fd-calls.js";
import { errorCode, removeIfThere } from "./file-record.js";

/** A lock file this process holds: what `unlockFile` needs to remove it, and only it. */
export interface HeldLock {
  path: string;
  token: string;
  /** `Date.now()` before the lock file was created: its mtime is no earlier. */
  takenAt: number;
  staleLockMs: number;
}

/** Takes the lock file `lock`, waiting (short, growing, jittered waits) up to `lockTimeoutMs`. */
export async function takeFileLock(
  lock: string,
  staleLockMs: number,
  lockTimeoutMs: number,
): Promise<HeldLock> {
  // randomUUID, as for the record's temp name and etag: Node serves it from pooled entropy (about
  // 1 µs), where each randomBytes call asks OpenSSL (about 7 µs on the bench VM), on every write.
  const token = `${process.pid} ${randomUUID()}`;
  const deadline = Date.now() + lockTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    const takenAt = Date.now();
    try {
      await writeLockFile(lock, token);
      return { path: lock, token, takenAt, staleLockMs };
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT") {
        await fs.mkdir(path.dirname(lock), { recursive: true });
        continue;
      }
      if (code !== "EEXIST") throw error;
    }
    if (await breakIfStale(lock, staleLockMs)) continue;
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

/**
 * Creates `lock` holding `token`; EEXIST when it is taken. A lock file this call created but could
 * not write is removed: left empty, it would hold the key until it went stale.
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

/**
 * Removes a lock this process took. A lock is broken only once its mtime is `staleLockMs` old
 * (`breakIfStale`), and ours is no older than `takenAt`: released well inside that period, it is
 * certainly still ours, and is removed without reading it back (which costs four more trips through
 * libuv's thread pool, on every conditional write). Held longer (a stalled process), it may have been
 * broken and taken by another writer since: it is removed only if it still holds our token.
 */
export async function unlockFile(held: HeldLock): Promise<void> {
  // Half the period: margin for a clock that is not ours (a share's server stamps the mtime).
  if (Date.now() - held.takenAt < held.staleLockMs / 2) {
    await removeIfThere(held.path);
    return;
  }
  const content = await fs.readFile(held.path, "utf8").catch(() => undefined);
  if (content === held.token) await removeIfThere(held.path);
}
