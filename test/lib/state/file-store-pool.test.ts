/**
 * How often the directory store goes through Node's thread pool. Each trip is
 * a hand-over to a worker thread and back, and on the bench VM those
 * hand-overs cost `serve` more CPU than its own work under a storm of
 * webhooks (16 records a notification; bench/RESULTS.md, "alert latency").
 * Counted with async_hooks: Node makes an async resource for every file-system
 * request and file handle. Bounds, not exact counts: a later Node may need
 * fewer; more means a trip came back.
 */
import { createHook } from "node:async_hooks";
import { constants } from "node:fs";
import { describe, expect, it } from "vitest";
import { FileStateStore } from "../../../lib/state/file-store.js";
import { tempDirs } from "../../helpers/temp-dirs.js";

const FS_RESOURCES = new Set(["FSREQCALLBACK", "FSREQPROMISE", "FILEHANDLE", "FILEHANDLECLOSEREQ"]);

const tempDir = tempDirs("file-store-pool-");

async function store(): Promise<FileStateStore> {
  return new FileStateStore(await tempDir());
}

/** The file-system requests and handles `run` makes, by type. */
async function poolResources(run: () => Promise<unknown>): Promise<string[]> {
  const types: string[] = [];
  const hook = createHook({
    init(_id, type) {
      if (FS_RESOURCES.has(type)) types.push(type);
    },
  });
  hook.enable();
  try {
    await run();
  } finally {
    hook.disable();
  }
  return types;
}

/** How many file-system requests and handles `run` makes. */
const poolWork = async (run: () => Promise<unknown>) => (await poolResources(run)).length;

describe("FileStateStore: work sent to the thread pool", () => {
  it("a read is open, read, close; a locked write is not read back at unlock", async () => {
    const s = await store();
    await s.put("deliveries", "warm-up", { n: 0 }); // the collection's directory exists, as under load
    const created = await s.put("deliveries", "d1", { n: 1 }, { ifNotExists: true });
    if (!created.ok) throw new Error("create failed");

    // With readFile and a read-back at every unlock: 5, 25, 20 and 16; with FileHandles (each one
    // an async resource of its own, and a close request): 4, 18, 14, 11 and 10; with lock files
    // opened, written and closed, not symbolic links: 3, 14, 11, 9 and 8. Where the temp file can
    // be opened for synchronized writes (O_DSYNC), a write makes no fsync request of its own.
    const fsync = constants.O_DSYNC === undefined ? 1 : 0;
    // Where symbolic links cannot be made (Windows), a lock is a file: two requests more.
    const lockFile = process.platform === "win32" ? 2 : 0;
    expect(await poolWork(() => s.get("deliveries", "d1"))).toBeLessThanOrEqual(3);
    expect(
      await poolWork(() => s.put("deliveries", "d1", { n: 2 }, { ifMatch: created.etag })),
    ).toBeLessThanOrEqual(12 + fsync + lockFile);
    expect(await poolWork(() => s.put("deliveries", "d1", { n: 3 }))).toBeLessThanOrEqual(
      9 + fsync + lockFile,
    );
    expect(await poolWork(() => s.delete("deliveries", "d1"))).toBeLessThanOrEqual(7 + lockFile);
    expect(await s.get("deliveries", "d1")).toBeUndefined();
    const create = () => s.put("deliveries", "d2", { n: 4 }, { ifNotExists: true });
    expect(await poolWork(create)).toBeLessThanOrEqual(8 + fsync);
  });

  it("reads and writes records on plain descriptors, never a FileHandle (lib/state/fd-calls.ts)", async () => {
    const s = await store();
    const types = await poolResources(async () => {
      const created = await s.put("deliveries", "d1", { n: 1 }, { ifNotExists: true });
      if (!created.ok) throw new Error("create failed");
      await s.get("deliveries", "d1");
      await s.put("deliveries", "d1", { n: 2 }, { ifMatch: created.etag });
      await s.put("deliveries", "d1", { n: 3 });
      await s.delete("deliveries", "d1");
    });
    expect(types.length).toBeGreaterThan(0);
    expect(types.filter((type) => type.startsWith("FILEHANDLE"))).toEqual([]);
  });

  it("reads a record larger than the first read whole", async () => {
    const s = await store();
    for (const size of [16 * 1024 - 40, 16 * 1024, 40_000, 300_000]) {
      const value = { pad: "é".repeat(size) }; // two bytes each: a chunk boundary may split one
      await s.put("runs", `big-${size}`, value);
      expect((await s.get<typeof value>("runs", `big-${size}`))?.value.pad).toBe(value.pad);
    }
  });
});
