/**
 * The file calls the directory store makes on every record, on plain file
 * descriptors through Node's callback API, each wrapped in one promise.
 *
 * Why not `fs.promises`: its `open` makes a FileHandle (a JS object, a C++
 * object with a finalizer, and an async resource of its own) and its `close`
 * another request object, and on the main thread that is about twice the CPU
 * of the same calls on a number. Opening, writing, closing and unlinking a
 * small file, 16 at a time, used 30–40 µs of the main thread's CPU with
 * `fs.promises` against 16–25 µs this way, on tmpfs and on the bench VM's
 * ext4 disk alike (6,000 files, three rounds each, 2026-12-02). Under a storm
 * of webhooks `serve` makes hundreds of these calls a notification, and its
 * main thread is what limits it (bench/RESULTS.md, "alert latency").
 *
 * What a FileHandle gave for free, callers do here: every descriptor opened is
 * closed in a `finally`. Imports only `node:` modules (see file-store.ts).
 */
import fs from "node:fs";

type Done<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

const call = <T>(start: (done: Done<T>) => void): Promise<T> =>
  new Promise<T>((resolve, reject) =>
    start((error, value) => (error === null ? resolve(value) : reject(error))),
  );

export const openFd = (file: string, flags: number | string, mode?: number): Promise<number> =>
  call<number>((done) => fs.open(file, flags, mode, done));

export const closeFd = (fd: number): Promise<void> =>
  call<void>((done) => fs.close(fd, (error) => done(error ?? null)));

export const fsyncFd = (fd: number): Promise<void> =>
  call<void>((done) => fs.fsync(fd, (error) => done(error)));

/** Reads up to `length` bytes at the file's current position; fewer only at its end. */
export const readFd = (fd: number, buffer: Buffer, length: number): Promise<number> =>
  call<number>((done) => fs.read(fd, buffer, 0, length, null, done));

/** Writes all of `data` from the start of the file: a write that returns short goes on where it stopped. */
export async function writeAllFd(fd: number, data: Buffer): Promise<void> {
  for (let written = 0; written < data.length;) {
    const at = written;
    written += await call<number>((done) => fs.write(fd, data, at, data.length - at, at, done));
  }
}

export const unlinkPath = (file: string): Promise<void> =>
  call<void>((done) => fs.unlink(file, (error) => done(error)));

export const renamePath = (from: string, to: string): Promise<void> =>
  call<void>((done) => fs.rename(from, to, (error) => done(error)));

export const linkPath = (existing: string, to: string): Promise<void> =>
  call<void>((done) => fs.link(existing, to, (error) => done(error)));

/** A symbolic link at `at` whose target is `target` (any text: a lock's token); EEXIST if `at` exists. */
export const symlinkPath = (target: string, at: string): Promise<void> =>
  call<void>((done) => fs.symlink(target, at, (error) => done(error)));

export const readlinkPath = (at: string): Promise<string> =>
  call<string>((done) => fs.readlink(at, "utf8", done));
