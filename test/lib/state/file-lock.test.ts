import { readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { takeFileLock, unlockFile } from "../../../lib/state/file-lock.js";
import { tempDirs } from "../../helpers/temp-dirs.js";

const tempDir = tempDirs("file-lock-");

async function lockPath(): Promise<string> {
  return path.join(await tempDir(), "k.json.lock");
}

const gone = (file: string) =>
  stat(file).then(
    () => false,
    () => true,
  );

describe("unlockFile", () => {
  it("removes a lock released well inside its stale period", async () => {
    const lock = await lockPath();
    const held = await takeFileLock(lock, 30_000, 1_000);
    expect(await readFile(lock, "utf8")).toBe(held.token);
    await unlockFile(held);
    expect(await gone(lock)).toBe(true);
  });

  it("held past half its stale period, removes it only if it still holds our token", async () => {
    const lock = await lockPath();
    // A writer stalled this long may have had its lock broken as stale and taken by another.
    const stalled = { ...(await takeFileLock(lock, 30_000, 1_000)), takenAt: Date.now() - 20_000 };
    await writeFile(lock, "4242 someone-else");
    await unlockFile(stalled);
    expect(await readFile(lock, "utf8")).toBe("4242 someone-else");

    await rm(lock);
    const ours = { ...(await takeFileLock(lock, 30_000, 1_000)), takenAt: Date.now() - 20_000 };
    await unlockFile(ours);
    expect(await gone(lock)).toBe(true);
  });
});
