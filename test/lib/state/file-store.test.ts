import { spawn } from "node:child_process";
import { mkdir, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createStateStore } from "../../../lib/state/create-store.js";
import { FileStateStore, fileName } from "../../../lib/state/file-store.js";
import { collect, etagOf, runStoreContract } from "./store-contract.js";
import { tempDirs } from "../../helpers/temp-dirs.js";
import { TS_CHILD_FLAGS, TS_SOURCES_HOOK } from "../../helpers/ts-child.js";

const tempDir = tempDirs("file-store-");

runStoreContract("FileStateStore", async () => new FileStateStore(path.join(await tempDir(), "state")));

/** Every name in a collection directory. */
async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir);
}

describe("FileStateStore on disk", () => {
  it("creates the directory on the first write, not on reads", async () => {
    const dir = path.join(await tempDir(), "a", "b");
    const store = new FileStateStore(dir);
    expect(await store.get("runs", "x")).toBeUndefined();
    expect(await collect(store.list("runs"))).toEqual([]);
    expect(await store.delete("runs", "x")).toBe(false);
    await expect(stat(dir)).rejects.toThrow();
    await store.put("runs", "x", 1);
    expect(await namesIn(path.join(dir, "runs"))).toEqual(["x.json"]);
    expect(store.description).toBe(`dir ${dir}`);
  });

  it("names files safely and reversibly, uppercase encoded for case-insensitive file systems", () => {
    for (const key of ["lease:rotation", "a/b\\c", "user@example.com", "v1.2", "Mixed", "..", "ü 🙂", "~%"]) {
      const name = fileName(key);
      expect(name).toMatch(/^([a-z0-9_-]|%[0-9A-F]{2})+\.json$/);
      expect(decodeURIComponent(name.slice(0, -".json".length))).toBe(key);
    }
    expect(fileName("Mixed")).not.toBe(fileName("mixed"));
    const long = fileName("k".repeat(1000));
    expect(long.length).toBeLessThan(255);
    expect(long).not.toBe(fileName(`${"k".repeat(999)}K`));
  });

  it("leaves no temp or lock files behind", async () => {
    const dir = await tempDir();
    const store = new FileStateStore(dir);
    const base = etagOf(await store.put("rotation", "k", 0));
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => store.put("rotation", "k", i, { ifMatch: base })),
      ...Array.from({ length: 10 }, (_, i) =>
        store.put("rotation", `new-${i % 3}`, i, { ifNotExists: true }),
      ),
      ...Array.from({ length: 10 }, (_, i) => store.put("rotation", `plain-${i % 2}`, i)),
    ]);
    await store.delete("rotation", "plain-0");
    await store.delete("rotation", "plain-1", { ifMatch: "stale" });
    expect((await namesIn(path.join(dir, "rotation"))).sort()).toEqual([
      "k.json",
      "new-0.json",
      "new-1.json",
      "new-2.json",
      "plain-1.json",
    ]);
  });

  it("readers never see a half-written file", async () => {
    const store = new FileStateStore(await tempDir());
    const big = (n: number) => ({ n, pad: "x".repeat(200_000) });
    await store.put("runs", "big", big(0));
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        const item = await store.get<{ n: number; pad: string }>("runs", "big");
        expect(item?.value.pad.length).toBe(200_000);
        reads++;
      }
    })();
    for (let n = 1; n <= 20; n++) await store.put("runs", "big", big(n));
    reading = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
  });

  it("breaks a stale lock left by a dead writer", async () => {
    const dir = await tempDir();
    const store = new FileStateStore(dir);
    const etag = etagOf(await store.put("rotation", "k", 1));
    const lock = path.join(dir, "rotation", "k.json.lock");
    await writeFile(lock, "12345 dead");
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const started = Date.now();
    expect((await store.put("rotation", "k", 2, { ifMatch: etag })).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await namesIn(path.join(dir, "rotation"))).toEqual(["k.json"]);
  });

  it("waits for a live lock, then gives up naming the lock file", async () => {
    const dir = await tempDir();
    const store = new FileStateStore(dir, { lockTimeoutMs: 300 });
    await store.put("rotation", "k", 1);
    const lock = path.join(dir, "rotation", "k.json.lock");
    await writeFile(lock, "12345 alive");
    await expect(store.put("rotation", "k", 2)).rejects.toThrow(`lock ${lock}`);
    await expect(store.delete("rotation", "k")).rejects.toThrow(/delete the lock file/);
    expect((await store.get("rotation", "k"))?.value).toBe(1);

    // Released while we wait: the write goes through.
    const waiting = new FileStateStore(dir, { lockTimeoutMs: 5_000 }).put("rotation", "k", 3);
    setTimeout(() => void rm(lock), 100);
    expect((await waiting).ok).toBe(true);
    expect((await store.get("rotation", "k"))?.value).toBe(3);
  });

  it("two store instances on one directory share the locks", async () => {
    const dir = await tempDir();
    const stores = Array.from({ length: 3 }, () => new FileStateStore(dir));
    const base = etagOf(await stores[0]!.put("rotation", "k", -1));
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) => stores[i % 3]!.put("rotation", "k", i, { ifMatch: base })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("createStateStore picks the file store for a file config", async () => {
    const dir = await tempDir();
    const store = await createStateStore({ kind: "file", dir });
    expect(store).toBeInstanceOf(FileStateStore);
    expect(store.description).toBe(`dir ${dir}`);
  });
});

// Children load the real TypeScript sources through Node's type stripping (Node ≥ 22.6),
// with a resolve hook for the `.js` import suffixes.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHILD = `${TS_SOURCES_HOOK}
const loaded = [];
registerHooks({
  load(url, context, next) {
    loaded.push(url);
    return next(url, context);
  },
});
const [mode, dir, count] = process.argv.slice(2);
const root = ${JSON.stringify(pathToFileURL(ROOT).href)};
if (mode === "create-store") {
  const { createStateStore } = await import(root + "lib/state/create-store.ts");
  const store = await createStateStore({ kind: "file", dir });
  await store.put("runs", "x", 1);
  console.log(JSON.stringify({ description: store.description, azure: loaded.filter((u) => u.includes("@azure")) }));
  process.exit(0);
}
const { FileStateStore } = await import(root + "lib/state/file-store.ts");
const store = new FileStateStore(dir);
console.log("ready");
await new Promise((resolve) => process.stdin.once("data", resolve));
if (mode === "create") {
  const result = await store.put("events", "race", { pid: process.pid }, { ifNotExists: true });
  console.log(JSON.stringify({ ok: result.ok, pid: process.pid }));
} else {
  let conflicts = 0;
  for (let i = 0; i < Number(count); ) {
    const current = await store.get("runs", "counter");
    const result = await store.put("runs", "counter", current.value + 1, { ifMatch: current.etag });
    if (result.ok) i++;
    else conflicts++;
  }
  console.log(JSON.stringify({ conflicts }));
}
process.exit(0);
`;

async function childScript(): Promise<string> {
  const file = path.join(await tempDir(), "child.mjs");
  await writeFile(file, CHILD);
  return file;
}

/** Starts `n` children, waits until all have loaded the store, then releases them at once. */
async function race(n: number, args: string[]): Promise<string[]> {
  const script = await childScript();
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, [...TS_CHILD_FLAGS, script, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  const outputs = children.map((child) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => out.includes("ready\n") && resolve());
      child.once("exit", () => reject(new Error(`child exited early: ${out}${err}`)));
    });
    const done = new Promise<string>((resolve, reject) =>
      child.once("exit", (code) =>
        code === 0
          ? resolve(out.replace("ready\n", "").trim())
          : reject(new Error(`child failed (${code}): ${err}`)),
      ),
    );
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const child of children) child.stdin.write("go\n");
  return Promise.all(outputs.map((o) => o.done));
}

describe("FileStateStore across processes", () => {
  it("of 4 processes creating the same key, exactly one wins", async () => {
    const dir = await tempDir();
    const results = (await race(4, ["create", dir])).map(
      (line) => JSON.parse(line) as { ok: boolean; pid: number },
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const stored = await new FileStateStore(dir).get("events", "race");
    expect(stored?.value).toEqual({ pid: winners[0]!.pid });
  });

  it("compare-and-swap loops in 3 processes lose no increment", async () => {
    const dir = await tempDir();
    const store = new FileStateStore(dir);
    await store.put("runs", "counter", 0);
    await race(3, ["increment", dir, "30"]);
    expect((await store.get("runs", "counter"))?.value).toBe(90);
    expect(await namesIn(path.join(dir, "runs"))).toEqual(["counter.json"]);
  });

  it("the file-store path of createStateStore does not load @azure/data-tables", async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    const script = await childScript();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...TS_CHILD_FLAGS, script, "create-store", dir]);
      let text = "";
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(err))));
    });
    expect(JSON.parse(out)).toEqual({ description: `dir ${dir}`, azure: [] });
  });
});
