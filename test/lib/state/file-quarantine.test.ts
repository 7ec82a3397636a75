import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileStateStore, fileName } from "../../../lib/state/file-store.js";
import { hookQuarantineWrites, runQuarantineContract } from "./quarantine-contract.js";
import { collect } from "./store-contract.js";
import { tempDirs } from "../../helpers/temp-dirs.js";

const tempDir = tempDirs("file-quarantine-");

runQuarantineContract("FileStateStore", async (options) => {
  const dir = path.join(await tempDir(), "state");
  return {
    store: hookQuarantineWrites(
      new FileStateStore(dir, { logger: options.logger, clock: options.clock }),
      options.beforeQuarantine,
    ),
    corrupt: async (collection, key, raw) => {
      await mkdir(path.join(dir, collection), { recursive: true });
      await writeFile(path.join(dir, collection, fileName(key)), raw ?? '{"something":"else"}');
    },
  };
});

describe("FileStateStore quarantine on disk", () => {
  it("quarantines a corrupt file under its key, a long hashed one too, and leaves no lock behind", async () => {
    const dir = await tempDir();
    const store = new FileStateStore(dir);
    await store.put("incidents", "ok", 1);
    const long = `${"k/".repeat(150)}end`;
    await writeFile(path.join(dir, "incidents", "broken%3A1.json"), '{"key":"broken:1","etag":"x","val');
    await writeFile(path.join(dir, "incidents", fileName(long)), "");
    expect((await collect(store.list("incidents"))).map((item) => item.key)).toEqual(["ok"]);
    expect(await readdir(path.join(dir, "incidents"))).toEqual(["ok.json"]);
    const keys = (await collect(store.list<{ key: string }>("quarantine"))).map((item) => item.value.key);
    expect(keys.sort()).toEqual(["broken:1", fileName(long).slice(0, -".json".length)].sort());
  });

  it("skips, without moving, an unreadable quarantine record", async () => {
    const dir = await tempDir();
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
    const store = new FileStateStore(dir, { logger });
    await mkdir(path.join(dir, "quarantine"), { recursive: true });
    await writeFile(path.join(dir, "quarantine", "x.json"), "{");
    expect(await collect(store.list("quarantine"))).toEqual([]);
    expect(await readdir(path.join(dir, "quarantine"))).toEqual(["x.json"]);
    expect(warnings).toEqual([expect.stringMatching(/skipped unreadable quarantine record x/) as unknown]);
  });
});
