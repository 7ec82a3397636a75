/**
 * What every StateStore promises about records it cannot read: they are moved
 * to `quarantine` (once), skipped, never block a reader, and never cost a good
 * write that lands while they are being moved. Run against each implementation.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import type { Logger } from "../../../lib/logger.js";
import { LEASE_COLLECTION, acquireLease, leaseKey } from "../../../lib/state/lease.js";
import type { QuarantinedRecord } from "../../../lib/state/quarantine.js";
import type { Collection, StateStore } from "../../../lib/state/store.js";
import { collect, etagOf } from "./store-contract.js";

export interface QuarantineHarness {
  store: StateStore;
  /**
   * Leaves `raw` where the store keeps collection/key, as a crash or a hand edit
   * would; `undefined` leaves well-formed JSON that is not the store's envelope.
   */
  corrupt: (collection: Collection, key: string, raw: string | undefined) => Promise<void>;
}

export interface HarnessOptions {
  logger: Logger;
  clock: ManualClock;
  /** Runs just before the store writes a quarantine record (to race a good write against the move). */
  beforeQuarantine?: (store: StateStore) => Promise<void>;
}

/**
 * Runs `before` just before the store writes a quarantine record. The store's own `put` is
 * wrapped on the instance, so its internal `this.put(...)` of the quarantine copy goes through it.
 */
export function hookQuarantineWrites<S extends StateStore>(
  store: S,
  before: HarnessOptions["beforeQuarantine"],
): S {
  const put = store.put.bind(store);
  const hooked: StateStore["put"] = async (collection, key, value, options) => {
    if (collection === "quarantine") await before?.(store);
    return put(collection, key, value, options);
  };
  Object.defineProperty(store, "put", { value: hooked });
  return store;
}

/** Looks like something that must never reach a log. */
const MARKER = "SENSITIVE-9f8e7d6c";
const BAD_JSON = `{"key":"bad","etag":"x","value":{"token":"${MARKER}"`;

function captureLogger(): { logger: Logger; warnings: string[]; all: string[] } {
  const warnings: string[] = [];
  const all: string[] = [];
  const line =
    (level: string) =>
    (message: string, ...args: unknown[]) => {
      const text = [message, ...args.map(String)].join(" ");
      all.push(text);
      if (level === "warn") warnings.push(text);
    };
  return {
    logger: { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") },
    warnings,
    all,
  };
}

async function quarantined(store: StateStore): Promise<QuarantinedRecord[]> {
  return (await collect(store.list<QuarantinedRecord>("quarantine"))).map((item) => item.value);
}

export function runQuarantineContract(
  name: string,
  makeHarness: (options: HarnessOptions) => Promise<QuarantineHarness>,
): void {
  async function setup(beforeQuarantine?: HarnessOptions["beforeQuarantine"]) {
    const log = captureLogger();
    const clock = new ManualClock();
    const harness = await makeHarness({
      logger: log.logger,
      clock,
      ...(beforeQuarantine ? { beforeQuarantine } : {}),
    });
    return { ...harness, ...log, clock };
  }

  describe(`${name}: unreadable records are quarantined`, () => {
    it("list returns the good records, moves the corrupt one to quarantine once, and warns without its content", async () => {
      const { store, corrupt, warnings, all, clock } = await setup();
      for (const id of ["a", "b", "c"]) await store.put("deliveries", id, { id });
      await corrupt("deliveries", "bad", BAD_JSON);

      const first = await collect(store.list<{ id: string }>("deliveries"));
      expect(first.map((item) => item.key).sort()).toEqual(["a", "b", "c"]);
      expect(await quarantined(store)).toEqual([
        {
          collection: "deliveries",
          key: "bad",
          reason: expect.stringMatching(/JSON/) as unknown,
          raw: BAD_JSON,
          rawChars: BAD_JSON.length,
          quarantinedAt: clock.now().toISOString(),
        },
      ]);
      expect(await store.get("deliveries", "bad")).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/deliveries\/bad .*quarantine/);
      for (const text of all) expect(text).not.toContain(MARKER);

      const second = await collect(store.list<{ id: string }>("deliveries"));
      expect(second.map((item) => item.key).sort()).toEqual(["a", "b", "c"]);
      expect(await quarantined(store)).toHaveLength(1);
      expect(warnings).toHaveLength(1);
    });

    it("get answers undefined for a corrupt record after quarantining it, and the key is usable again", async () => {
      const { store, corrupt, warnings } = await setup();
      await corrupt("events", "bad", BAD_JSON);
      await corrupt("events", "empty", "");
      await corrupt("events", "foreign", undefined);
      for (const key of ["bad", "empty", "foreign"]) expect(await store.get("events", key)).toBeUndefined();
      const found = await quarantined(store);
      expect(found.map((q) => `${q.collection}/${q.key}`).sort()).toEqual([
        "events/bad",
        "events/empty",
        "events/foreign",
      ]);
      expect(warnings).toHaveLength(3);
      expect((await store.put("events", "bad", { n: 1 }, { ifNotExists: true })).ok).toBe(true);
      expect((await store.get("events", "bad"))?.value).toEqual({ n: 1 });
      expect(await collect(store.list("events"))).toHaveLength(1);
    });

    it("an unreadable record matches no etag: conditional writes and deletes are refused, not thrown", async () => {
      const { store, corrupt } = await setup();
      // The etag a reader got before the record was damaged.
      const stale = etagOf(await store.put("incidents", "bad", 0));
      await corrupt("incidents", "bad", BAD_JSON);
      expect(await store.put("incidents", "bad", 1, { ifMatch: stale })).toEqual({ ok: false });
      expect(await store.put("incidents", "bad", 1, { ifNotExists: true })).toEqual({ ok: false });
      expect(await store.delete("incidents", "bad", { ifMatch: stale })).toBe(false);
      // An unconditional overwrite repairs it.
      expect((await store.put("incidents", "bad", 2)).ok).toBe(true);
      expect((await store.get("incidents", "bad"))?.value).toBe(2);
      expect(await quarantined(store)).toEqual([]);
    });

    it("concurrent readers quarantine a record once", async () => {
      const { store, corrupt, warnings } = await setup();
      await store.put("outbox", "good", 1);
      await corrupt("outbox", "bad", BAD_JSON);
      const lists = await Promise.all([
        collect(store.list("outbox")),
        collect(store.list("outbox")),
        store.get("outbox", "bad"),
        collect(store.list("outbox")),
      ]);
      for (const listed of [lists[0], lists[1], lists[3]]) expect(listed.map((i) => i.key)).toEqual(["good"]);
      expect(await quarantined(store)).toHaveLength(1);
      expect(warnings).toHaveLength(1);
    });

    it("a good write that lands while the record is being moved is kept", async () => {
      let raced = false;
      const { store, corrupt } = await setup(async (racer) => {
        if (raced) return;
        raced = true;
        expect((await racer.put("deliveries", "bad", { repaired: true })).ok).toBe(true);
      });
      await corrupt("deliveries", "bad", BAD_JSON);
      const listed = await collect(store.list("deliveries"));
      expect(raced).toBe(true);
      // The list read the corrupt version before the write; the next read sees the repair.
      expect(listed).toEqual([]);
      expect((await store.get("deliveries", "bad"))?.value).toEqual({ repaired: true });
      expect((await quarantined(store)).map((q) => q.raw)).toEqual([BAD_JSON]);
    });

    it("a corrupt lease is reclaimed by exactly one of two concurrent acquirers", async () => {
      const { store, corrupt, clock } = await setup();
      for (const raw of [BAD_JSON, undefined, '{"garbage":true}']) {
        if (raw === '{"garbage":true}') {
          await store.put(LEASE_COLLECTION, leaseKey("rotation"), { garbage: true });
        } else {
          await corrupt(LEASE_COLLECTION, leaseKey("rotation"), raw);
        }
        const leases = await Promise.all(
          ["h1", "h2"].map((holder) => acquireLease(store, "rotation", { holder, ttlMs: 60_000, clock })),
        );
        const held = leases.filter((l) => l !== undefined);
        expect(held).toHaveLength(1);
        expect(
          (await store.get<{ holder: string }>(LEASE_COLLECTION, leaseKey("rotation")))?.value.holder,
        ).toBe(held[0]!.holder);
        expect(await held[0]!.release()).toBe(true);
      }
      // The two unreadable ones are kept in quarantine; the JSON one was taken over in place.
      expect(await quarantined(store)).toHaveLength(2);
    });

    it("an expired lease is reclaimed once, a live one is respected", async () => {
      const { store, clock } = await setup();
      const old = await acquireLease(store, "rotation", { holder: "old", ttlMs: 60_000, clock });
      expect(old).toBeDefined();
      clock.advance(59_999);
      expect(
        await acquireLease(store, "rotation", { holder: "early", ttlMs: 60_000, clock }),
      ).toBeUndefined();
      clock.advance(1);
      const takers = await Promise.all(
        ["n1", "n2", "n3"].map((holder) => acquireLease(store, "rotation", { holder, ttlMs: 60_000, clock })),
      );
      expect(takers.filter((l) => l !== undefined)).toHaveLength(1);
      expect(await old!.release()).toBe(false);
      expect(await quarantined(store)).toEqual([]);
    });
  });
}
