/**
 * How often the directory store goes through Node's thread pool. Each trip is
 * a hand-over to a worker thread and back, and on the bench VM those
 * hand-overs cost `serve` more CPU than its own work under a storm of
 * webhooks (26 records a notification; bench/RESULTS.md, "alert latency").
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

/** How many file-system requests and handles `run` makes. */
async function poolWork(run: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const hook = createHook({
    init(_id, type) {
      if (FS_RESOURCES.has(type)) count++;
    },
  });
  hook.enable();
  try {
    await run();
  } finally {
    hook.disable();
  }
  return count;
}

describe("FileStateStore: work sent to the thread pool", () => {
  it("a read is open, read, close; a locked write is not read back at unlock", async () => {
    const s = await store();
    await s.put("deliveries", "warm-up", { n: 0 }); // the collection's directory exists, as under load
    const created = await s.put("deliveries", "d1", { n: 1 }, { ifNotExists: true });
    if (!created.ok) throw new Error("create failed");

    // With readFile and a read-back at every unlock: 5, 25, 20 and 16. Where the temp file can be
    // opened for synchronized writes (O_DSYNC), a write makes no fsync request of its own.
    const fsync = constants.O_DSYNC === undefined ? 1 : 0;
    expect(await poolWork(() => s.get("deliveries", "d1"))).toBeLessThanOrEqual(4);
    expect(
      await poolWork(() => s.put("deliveries", "d1", { n: 2 }, { ifMatch: created.etag })),
    ).toBeLessThanOrEqual(18 + fsync);
    expect(await poolWork(() => s.put("deliveries", "d1", { n: 3 }))).toBeLessThanOrEqual(14 + fsync);
    expect(await poolWork(() => s.delete("deliveries", "d1"))).toBeLessThanOrEqual(11);
    expect(await s.get("deliveries", "d1")).toBeUndefined();
    const create = () => s.put("deliveries", "d2", { n: 4 }, { ifNotExists: true });
    expect(await poolWork(create)).toBeLessThanOrEqual(10 + fsync);
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
