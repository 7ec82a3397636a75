/**
 * Directory fsyncs are shared, but never one that started before a writer
 * asked: its rename might not be in it.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirSyncs } from "../../../lib/state/dir-sync.js";
import { FileStateStore } from "../../../lib/state/file-store.js";

/** A sync function whose calls the test finishes one at a time. */
function heldSyncs() {
  const calls: { dir: string; finish: (error?: Error) => void }[] = [];
  const sync = (dir: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ dir, finish: (error) => (error === undefined ? resolve() : reject(error)) });
    });
  return { calls, sync };
}

const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("DirSyncs", () => {
  it("starts at once when idle; callers during a sync share the next one, which starts after it", async () => {
    const { calls, sync } = heldSyncs();
    const syncs = new DirSyncs(sync);
    const done: string[] = [];
    const first = syncs.sync("/d").then(() => done.push("first"));
    expect(calls).toHaveLength(1);

    const joined = [1, 2, 3].map((n) => syncs.sync("/d").then(() => done.push(`joined ${n}`)));
    await settled();
    // Not one of them may count on the running sync: it may have started before their rename.
    expect(calls).toHaveLength(1);

    calls[0]!.finish();
    await first;
    await settled();
    expect(done).toEqual(["first"]);
    expect(calls).toHaveLength(2);

    const late = syncs.sync("/d").then(() => done.push("late"));
    calls[1]!.finish();
    await Promise.all(joined);
    expect(done).toEqual(["first", "joined 1", "joined 2", "joined 3"]);
    await settled();
    expect(calls).toHaveLength(3);
    calls[2]!.finish();
    await late;
    expect(done.at(-1)).toBe("late");
  });

  it("keeps directories apart", () => {
    const { calls, sync } = heldSyncs();
    const syncs = new DirSyncs(sync);
    void syncs.sync("/a");
    void syncs.sync("/b");
    expect(calls.map((c) => c.dir)).toEqual(["/a", "/b"]);
    for (const c of calls) c.finish();
  });

  it("reports a failed sync to every caller that waited for it, and the next caller gets a new one", async () => {
    const { calls, sync } = heldSyncs();
    const syncs = new DirSyncs(sync);
    const first = syncs.sync("/d");
    const a = syncs.sync("/d");
    const b = syncs.sync("/d");
    calls[0]!.finish();
    await first;
    await settled();
    calls[1]!.finish(new Error("EIO"));
    await expect(a).rejects.toThrow("EIO");
    await expect(b).rejects.toThrow("EIO");

    const again = syncs.sync("/d");
    expect(calls).toHaveLength(3);
    calls[2]!.finish();
    await expect(again).resolves.toBeUndefined();
  });
});

describe("FileStateStore under concurrent writes", () => {
  it("writes every record, each readable, and leaves no temp or lock file behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dir-sync-store-"));
    try {
      const store = new FileStateStore(dir);
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      const created = await Promise.all(
        keys.map((k) => store.put("outbox", k, { k }, { ifNotExists: true })),
      );
      expect(created.every((r) => r.ok)).toBe(true);
      const again = await Promise.all(keys.map((k) => store.put("outbox", k, { k }, { ifNotExists: true })));
      expect(again.some((r) => r.ok)).toBe(false);
      const updated = await Promise.all(
        keys.map(async (k, i) => {
          const item = await store.get<{ k: string }>("outbox", k);
          return store.put("outbox", k, { k, n: i }, { ifMatch: item!.etag });
        }),
      );
      expect(updated.every((r) => r.ok)).toBe(true);
      for (const [i, k] of keys.entries()) expect((await store.get("outbox", k))?.value).toEqual({ k, n: i });
      expect((await readdir(join(dir, "outbox"))).sort()).toEqual(keys.map((k) => `${k}.json`).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
