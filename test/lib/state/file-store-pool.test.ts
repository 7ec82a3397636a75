/**
 * How often the directory store goes through Node's thread pool. Each trip is
 * a hand-over to a worker thread and back; under a storm of webhooks those
 * hand-overs cost `serve` more CPU than its own work (bench/RESULTS.md,
 * "alert latency"). Only `fsync` waits for the disk, so only the record's
 * fsync and its directory's may make the trip. Counted with async_hooks: every
 * thread-pool request Node makes for `fs` is an async resource of its own.
 */
import { createHook } from "node:async_hooks";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileStateStore } from "../../../lib/state/file-store.js";

/** The async resources Node creates for file-system requests (callback, promise and FileHandle forms). */
const FS_REQUESTS = new Set([
  "FSREQCALLBACK",
  "FSREQPROMISE",
  "FILEHANDLE",
  "FILEHANDLECLOSEREQ",
  "STATWATCHER",
]);

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function store(): Promise<FileStateStore> {
  const dir = await mkdtemp(path.join(tmpdir(), "file-store-pool-"));
  roots.push(dir);
  return new FileStateStore(dir);
}

/** The file-system requests `run` sends through the thread pool, by type. */
async function poolTrips(run: () => Promise<unknown>): Promise<string[]> {
  const trips: string[] = [];
  const hook = createHook({
    init(_id, type) {
      if (FS_REQUESTS.has(type)) trips.push(type);
    },
  });
  hook.enable();
  try {
    await run();
  } finally {
    hook.disable();
  }
  return trips;
}

describe("FileStateStore: trips through the thread pool", () => {
  it("a create, an update on its etag, a read and a delete: two each for writes (fsync, directory fsync), none for the rest", async () => {
    const s = await store();
    await s.put("deliveries", "warm-up", { n: 0 }); // the collection's directory exists, as it does under load

    const created = await s.put("deliveries", "d1", { n: 1 }, { ifNotExists: true });
    if (!created.ok) throw new Error("create failed");
    expect(await poolTrips(() => s.put("deliveries", "d2", { n: 1 }, { ifNotExists: true }))).toHaveLength(2);
    expect(
      await poolTrips(() => s.put("deliveries", "d1", { n: 2 }, { ifMatch: created.etag })),
    ).toHaveLength(2);
    expect(await poolTrips(() => s.get("deliveries", "d1"))).toEqual([]);
    expect(await poolTrips(() => s.put("deliveries", "d1", { n: 3 }, { ifMatch: "stale" }))).toHaveLength(1);
    // A delete flushes only the directory.
    expect(await poolTrips(() => s.delete("deliveries", "d2"))).toHaveLength(1);
    expect(await poolTrips(() => s.delete("deliveries", "never-there"))).toEqual([]);
    expect((await s.get<{ n: number }>("deliveries", "d1"))?.value).toEqual({ n: 2 });
  });
});
