/**
 * What every StateStore promises, run against each implementation. `makeStore`
 * returns a fresh, empty store per test (a new directory, a new table).
 */
import { describe, expect, it } from "vitest";
import type { StateStore, StoredItem, WriteResult } from "../../../lib/state/store.js";

export function runStoreContract(name: string, makeStore: () => Promise<StateStore> | StateStore): void {
  describe(`${name}: StateStore contract`, () => {
    it("returns undefined for a missing key, in a used and in a never-used collection", async () => {
      const store = await makeStore();
      expect(await store.get("runs", "nope")).toBeUndefined();
      await store.put("runs", "other", 1);
      expect(await store.get("runs", "nope")).toBeUndefined();
    });

    it("round-trips nested JSON and returns the write's etag", async () => {
      const store = await makeStore();
      const value = {
        id: "r1",
        ok: true,
        count: 3.5,
        nothing: null,
        list: [1, "two", { three: [3] }],
        nested: { deeper: { text: 'héllo ☃ 🙂 "quoted" \\ / \n tab\t' } },
      };
      const result = await store.put("runs", "r1", value);
      expect(result.ok).toBe(true);
      const item = await store.get<typeof value>("runs", "r1");
      expect(item).toEqual({ key: "r1", value, etag: etagOf(result) });
    });

    it("stores primitives and empty containers", async () => {
      const store = await makeStore();
      for (const [key, value] of [
        ["zero", 0],
        ["empty-string", ""],
        ["false", false],
        ["null", null],
        ["empty-array", []],
        ["empty-object", {}],
      ] as const) {
        await store.put("runs", key, value);
        expect((await store.get("runs", key))?.value).toEqual(value);
      }
    });

    it("an unconditional overwrite replaces the value and changes the etag", async () => {
      const store = await makeStore();
      const first = etagOf(await store.put("incidents", "i", { v: 1 }));
      const second = etagOf(await store.put("incidents", "i", { v: 2 }));
      expect(second).not.toBe(first);
      expect(await store.get("incidents", "i")).toEqual({ key: "i", value: { v: 2 }, etag: second });
    });

    it("ifNotExists creates once, then refuses and leaves the value alone", async () => {
      const store = await makeStore();
      const created = await store.put("events", "e1", { n: 1 }, { ifNotExists: true });
      expect(created.ok).toBe(true);
      expect(await store.put("events", "e1", { n: 2 }, { ifNotExists: true })).toEqual({ ok: false });
      expect(await store.get("events", "e1")).toEqual({ key: "e1", value: { n: 1 }, etag: etagOf(created) });
    });

    it("ifMatch updates with the current etag and refuses a stale or missing one", async () => {
      const store = await makeStore();
      const v1 = etagOf(await store.put("rotation", "r", { step: 1 }));
      const v2 = etagOf(await store.put("rotation", "r", { step: 2 }, { ifMatch: v1 }));
      expect(v2).not.toBe(v1);
      expect(await store.put("rotation", "r", { step: 3 }, { ifMatch: v1 })).toEqual({ ok: false });
      expect(await store.get("rotation", "r")).toEqual({ key: "r", value: { step: 2 }, etag: v2 });
      expect(await store.put("rotation", "absent", { step: 1 }, { ifMatch: v2 })).toEqual({ ok: false });
      expect(await store.get("rotation", "absent")).toBeUndefined();
    });

    it("a deleted and re-created item does not accept the old etag", async () => {
      const store = await makeStore();
      const old = etagOf(await store.put("rotation", "aba", { v: 1 }));
      await store.delete("rotation", "aba");
      await store.put("rotation", "aba", { v: 1 });
      expect(await store.put("rotation", "aba", { v: 2 }, { ifMatch: old })).toEqual({ ok: false });
    });

    it("of 10 concurrent updates on the same etag, exactly one wins and its value is stored", async () => {
      const store = await makeStore();
      const base = etagOf(await store.put("rotation", "race", { writer: -1 }));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, writer) =>
          store.put("rotation", "race", { writer }, { ifMatch: base }),
        ),
      );
      const winners = results.flatMap((r, writer) => (r.ok ? [{ writer, etag: r.etag }] : []));
      expect(winners).toHaveLength(1);
      expect(await store.get("rotation", "race")).toEqual({
        key: "race",
        value: { writer: winners[0]!.writer },
        etag: winners[0]!.etag,
      });
    });

    it("of 10 concurrent creates, exactly one wins and its value is stored", async () => {
      const store = await makeStore();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, writer) =>
          store.put("events", "once", { writer }, { ifNotExists: true }),
        ),
      );
      const winners = results.flatMap((r, writer) => (r.ok ? [{ writer, etag: r.etag }] : []));
      expect(winners).toHaveLength(1);
      expect(await store.get("events", "once")).toEqual({
        key: "once",
        value: { writer: winners[0]!.writer },
        etag: winners[0]!.etag,
      });
    });

    it("concurrent read-modify-write loops lose no increment", async () => {
      const store = await makeStore();
      await store.put("runs", "counter", 0);
      const increment = async () => {
        for (;;) {
          const current = await store.get<number>("runs", "counter");
          const result = await store.put("runs", "counter", current!.value + 1, { ifMatch: current!.etag });
          if (result.ok) return;
        }
      };
      await Promise.all(Array.from({ length: 8 }, increment));
      expect((await store.get("runs", "counter"))?.value).toBe(8);
    });

    it("deletes unconditionally, with the current etag, and refuses a stale etag", async () => {
      const store = await makeStore();
      await store.put("deliveries", "a", 1);
      expect(await store.delete("deliveries", "a")).toBe(true);
      expect(await store.get("deliveries", "a")).toBeUndefined();
      expect(await store.delete("deliveries", "a")).toBe(false);
      expect(await store.delete("grants", "never")).toBe(false);

      const old = etagOf(await store.put("deliveries", "b", 1));
      const current = etagOf(await store.put("deliveries", "b", 2));
      expect(await store.delete("deliveries", "b", { ifMatch: old })).toBe(false);
      expect((await store.get("deliveries", "b"))?.value).toBe(2);
      expect(await store.delete("deliveries", "b", { ifMatch: current })).toBe(true);
      expect(await store.get("deliveries", "b")).toBeUndefined();
      expect(await store.delete("deliveries", "b", { ifMatch: current })).toBe(false);
    });

    it("lists every item of a collection, with etags, and none of another", async () => {
      const store = await makeStore();
      expect(await collect(store.list("events"))).toEqual([]);
      const etags = new Map<string, string>();
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => {
          etags.set(`event-${i}`, etagOf(await store.put("events", `event-${i}`, { i })));
        }),
      );
      for (let i = 0; i < 3; i++) await store.put("incidents", `incident-${i}`, { i });
      const listed = await collect(store.list<{ i: number }>("events"));
      expect(listed.map((item) => item.key).sort()).toEqual([...etags.keys()].sort());
      for (const item of listed) {
        expect(item.etag).toBe(etags.get(item.key));
        expect(item.value).toEqual({ i: Number(item.key.slice("event-".length)) });
      }
      expect(await collect(store.list("incidents"))).toHaveLength(3);
      expect(await collect(store.list("grants"))).toEqual([]);
    });

    it("list can be abandoned part-way", async () => {
      const store = await makeStore();
      for (let i = 0; i < 5; i++) await store.put("runs", `r${i}`, i);
      let seen = 0;
      for await (const _ of store.list("runs")) if (++seen === 2) break;
      expect(seen).toBe(2);
      expect(await collect(store.list("runs"))).toHaveLength(5);
    });

    it("keys with separators, reserved and unicode characters round-trip through get and list", async () => {
      const store = await makeStore();
      const keys = [
        "lease:rotation",
        "app/00000000-0000-0000-0000-000000000001/secret",
        "user@example.com",
        "v1.2.3",
        "Mixed-Case",
        "mixed-case",
        "a b\tc",
        "100% ~tilde~ #hash ?query &amp 'quote' \"dq\" \\back\\",
        "..",
        ".",
        "ünïcødé ☃ 日本語 🙂",
        "%41",
        "A",
        "x".repeat(600),
        `${"long/é:".repeat(300)}end`,
        `${"long/é:".repeat(300)}END`,
      ];
      for (const [i, key] of keys.entries()) await store.put("grants", key, { i });
      for (const [i, key] of keys.entries()) expect((await store.get("grants", key))?.value).toEqual({ i });
      const listed = await collect(store.list<{ i: number }>("grants"));
      expect(listed.map((item) => item.key).sort()).toEqual([...keys].sort());
      for (const item of listed) expect(keys[item.value.i]).toBe(item.key);
    });

    it("keeps collections apart", async () => {
      const store = await makeStore();
      await store.put("runs", "same", "runs");
      await store.put("events", "same", "events");
      expect((await store.get("runs", "same"))?.value).toBe("runs");
      expect((await store.get("events", "same"))?.value).toBe("events");
      expect(await store.delete("runs", "same")).toBe(true);
      expect((await store.get("events", "same"))?.value).toBe("events");
      expect((await store.put("events", "fresh", 1, { ifNotExists: true })).ok).toBe(true);
      expect((await store.put("runs", "fresh", 1, { ifNotExists: true })).ok).toBe(true);
    });

    it("rejects bad input with TypeError", async () => {
      const store = await makeStore();
      await expect(store.get("runs", "")).rejects.toThrow(TypeError);
      await expect(store.put("runs", "", 1)).rejects.toThrow(TypeError);
      await expect(store.put("runs", "k", undefined)).rejects.toThrow(TypeError);
      await expect(store.put("runs", "k", 1, { ifNotExists: true, ifMatch: "x" })).rejects.toThrow(TypeError);
      expect(await store.get("runs", "k")).toBeUndefined();
    });

    it("has a description", async () => {
      const store = await makeStore();
      expect(store.description).toMatch(/\S/);
    });
  });
}

export async function collect<T>(items: AsyncIterable<StoredItem<T>>): Promise<StoredItem<T>[]> {
  const out: StoredItem<T>[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function etagOf(result: WriteResult): string {
  if (!result.ok) throw new Error("expected the write to succeed");
  return result.etag;
}
