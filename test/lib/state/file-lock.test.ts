import { spawn, type ChildProcess } from "node:child_process";
import { createHook } from "node:async_hooks";
import { lstat, readFile, readlink, rm, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { takeFileLock, unlockFile } from "../../../lib/state/file-lock.js";
import { lockToken } from "../../../lib/state/lock-holder.js";
import { tempDirs } from "../../helpers/temp-dirs.js";
import { TS_CHILD_FLAGS, TS_SOURCES_HOOK } from "../../helpers/ts-child.js";

const tempDir = tempDirs("file-lock-");

async function lockPath(): Promise<string> {
  return path.join(await tempDir(), "k.json.lock");
}

const gone = (file: string) =>
  lstat(file).then(
    () => false,
    () => true,
  );

/** A lock's token: the target of a symbolic link, or the text of a lock file. */
async function tokenIn(lock: string): Promise<string> {
  return (await lstat(lock)).isSymbolicLink() ? readlink(lock) : readFile(lock, "utf8");
}

describe("unlockFile", () => {
  it("removes a lock released well inside its stale period", async () => {
    const lock = await lockPath();
    const held = await takeFileLock(lock, 30_000, 1_000);
    expect(await tokenIn(lock)).toBe(held.token);
    await unlockFile(held);
    expect(await gone(lock)).toBe(true);
  });

  it("held past half its stale period, removes it only if it still holds our token", async () => {
    const lock = await lockPath();
    // A writer stalled this long may have had its lock broken as stale and taken by another.
    const stalled = { ...(await takeFileLock(lock, 30_000, 1_000)), takenAt: Date.now() - 20_000 };
    await rm(lock);
    await writeFile(lock, "4242 someone-else");
    await unlockFile(stalled);
    expect(await readFile(lock, "utf8")).toBe("4242 someone-else");

    await rm(lock);
    const ours = { ...(await takeFileLock(lock, 30_000, 1_000)), takenAt: Date.now() - 20_000 };
    await unlockFile(ours);
    expect(await gone(lock)).toBe(true);
  });
});

// A process that holds a lock and is then killed: the real lock code, loaded in a child through
// Node's type stripping.
const ROOT = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")).href;
const HOLDER = `${TS_SOURCES_HOOK}
const [root, lock] = process.argv.slice(2);
const { takeFileLock } = await import(root + "/lib/state/file-lock.ts");
await takeFileLock(lock, 60_000, 5_000);
console.log("held");
setInterval(() => undefined, 60_000);
`;

/** A child process holding `lock`, taken by the real lock code. */
async function holder(lock: string): Promise<ChildProcess> {
  const script = path.join(path.dirname(lock), "holder.mjs");
  await writeFile(script, HOLDER);
  const child = spawn(process.execPath, [...TS_CHILD_FLAGS, script, ROOT, lock], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (c: Buffer) => c.toString().includes("held") && resolve());
    child.once("exit", (code) => reject(new Error(`the holder exited ${code ?? "?"}: ${err}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** takeFileLock with a stale period no test waits for: only the holder check can break a lock. */
const takeWithin = (lock: string, timeoutMs: number, holderCheckMs = 0) =>
  takeFileLock(lock, 600_000, timeoutMs, holderCheckMs);

/** Our own token with some of its fields replaced: pid, unique, start, boot, pid namespace, host. */
function tokenWith(fields: Record<number, string>): string {
  const parts = lockToken("someone-else").split(" ");
  for (const [i, value] of Object.entries(fields)) parts[Number(i)] = value;
  return parts.join(" ");
}

describe.runIf(process.platform !== "win32")("takeFileLock: the lock itself", () => {
  it("is a symbolic link whose target is the token, made in one request", async () => {
    const lock = await lockPath();
    let requests = 0;
    const hook = createHook({
      init(_id, type) {
        if (type.startsWith("FS")) requests++;
      },
    });
    hook.enable();
    const held = await takeFileLock(lock, 30_000, 1_000).finally(() => hook.disable());
    expect(requests).toBe(1);
    expect((await lstat(lock)).isSymbolicLink()).toBe(true);
    expect(await readlink(lock)).toBe(held.token);
    expect(held.symlink).toBe(true);
    await unlockFile(held);
    expect(await gone(lock)).toBe(true);
  });

  it("waits for a lock file of the other kind, and breaks it once stale", async () => {
    const lock = await lockPath();
    await writeFile(lock, "4242 someone-else");
    await expect(takeFileLock(lock, 60_000, 300)).rejects.toThrow(/Waited 0 s for the lock/);
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    const held = await takeFileLock(lock, 60_000, 1_000);
    expect(await tokenIn(lock)).toBe(held.token);
    await unlockFile(held);
  });
});

describe.runIf(process.platform === "linux")("takeFileLock: a lock whose holder is gone (Linux)", () => {
  it("names this process in its token: pid, start time, boot, pid namespace, host", async () => {
    const held = await takeFileLock(await lockPath(), 30_000, 1_000);
    const [pid, unique, start, boot, pidNamespace, host] = held.token.split(" ");
    expect(Number(pid)).toBe(process.pid);
    expect(unique).toMatch(/^[0-9a-f-]{36}$/);
    expect(start).toMatch(/^\d+$/);
    expect(boot).toBe((await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim());
    expect(pidNamespace).toMatch(/^pid:\[\d+\]$/);
    expect(host).toBe(hostname());
    await unlockFile(held);
  });

  it("breaks the lock of a killed process long before its stale period", async () => {
    const lock = await lockPath();
    const child = await holder(lock);
    const token = await tokenIn(lock);
    expect(Number(token.split(" ")[0])).toBe(child.pid);
    await kill(child);
    const held = await takeWithin(lock, 10_000);
    expect(await tokenIn(lock)).toBe(held.token);
    await unlockFile(held);
  });

  it("leaves the lock of a live process alone, and that of a killed one until it is old enough to ask", async () => {
    const lock = await lockPath();
    const child = await holder(lock);
    try {
      await expect(takeWithin(lock, 1_500)).rejects.toThrow(/Waited 2 s for the lock/);
      await kill(child);
      await expect(takeWithin(lock, 1_000, 60_000)).rejects.toThrow(/Waited 1 s for the lock/);
    } finally {
      await kill(child);
    }
  });

  it("breaks a lock whose pid now belongs to a process that started at another time", async () => {
    const lock = await lockPath();
    // This process's pid, with a start time that is not its own: the pid was reused.
    await writeFile(lock, tokenWith({ 0: String(process.pid), 2: "1" }));
    const held = await takeWithin(lock, 5_000);
    expect(await tokenIn(lock)).toBe(held.token);
    await unlockFile(held);
  });

  it("judges a lock file (where symbolic links cannot be made) as it does a link", async () => {
    const child = await holder(await lockPath());
    const dead = String(child.pid);
    await kill(child);
    const lock = await lockPath();
    await writeFile(lock, tokenWith({ 0: dead }));
    const held = await takeWithin(lock, 5_000);
    expect(await tokenIn(lock)).toBe(held.token);
    await unlockFile(held);
  });

  it("does not judge a holder of another boot, pid namespace or host, nor a token without them", async () => {
    const child = await holder(await lockPath());
    const dead = String(child.pid);
    await kill(child);
    for (const token of [
      tokenWith({ 0: dead, 3: "00000000-0000-0000-0000-000000000000" }),
      tokenWith({ 0: dead, 4: "pid:[1]" }),
      tokenWith({ 0: dead, 5: "another-host" }),
      `${dead} 6c1d0d6e-0b8e-4a53-9a53-6d0b8f0e1a7c`,
      "",
    ]) {
      const lock = await lockPath();
      await writeFile(lock, token);
      await expect(takeWithin(lock, 300), token).rejects.toThrow(/Waited 0 s for the lock/);
    }
  });
});
