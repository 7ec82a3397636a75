import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import { FileStateStore } from "../../../lib/state/file-store.js";
import { LEASE_COLLECTION, acquireLease, type LeaseRecord } from "../../../lib/state/lease.js";
import { tempDirs } from "../../helpers/temp-dirs.js";

const tempDir = tempDirs("lease-");
async function freshStore(): Promise<FileStateStore> {
  return new FileStateStore(await tempDir());
}

const TTL = 5 * 60_000;

describe("acquireLease", () => {
  it("of concurrent acquirers, exactly one gets the lease", async () => {
    const store = await freshStore();
    const clock = new ManualClock();
    const leases = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        acquireLease(store, "rotation", { holder: `h${i}`, ttlMs: TTL, clock }),
      ),
    );
    const held = leases.filter((l) => l !== undefined);
    expect(held).toHaveLength(1);
    const stored = await store.get<LeaseRecord>(LEASE_COLLECTION, "lease:rotation");
    expect(stored?.value).toEqual({
      holder: held[0]!.holder,
      acquiredAt: clock.now().toISOString(),
      expiresAt: new Date(clock.now().getTime() + TTL).toISOString(),
    });
    expect(held[0]!.expiresAt).toEqual(new Date(clock.now().getTime() + TTL));
  });

  it("refuses while the lease is held and unexpired, whoever asks", async () => {
    const store = await freshStore();
    const clock = new ManualClock();
    expect(await acquireLease(store, "rotation", { holder: "a", ttlMs: TTL, clock })).toBeDefined();
    clock.advance(TTL - 1);
    expect(await acquireLease(store, "rotation", { holder: "b", ttlMs: TTL, clock })).toBeUndefined();
    expect(await acquireLease(store, "rotation", { holder: "a", ttlMs: TTL, clock })).toBeUndefined();
  });

  it("lets an expired lease be taken over; the old holder then cannot release it", async () => {
    const store = await freshStore();
    const clock = new ManualClock();
    const old = await acquireLease(store, "rotation", { holder: "old", ttlMs: TTL, clock });
    clock.advance(TTL);
    const takers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        acquireLease(store, "rotation", { holder: `new${i}`, ttlMs: TTL, clock }),
      ),
    );
    const taken = takers.filter((l) => l !== undefined);
    expect(taken).toHaveLength(1);
    expect(await old!.release()).toBe(false);
    expect((await store.get<LeaseRecord>(LEASE_COLLECTION, "lease:rotation"))?.value.holder).toBe(
      taken[0]!.holder,
    );
  });

  it("release frees the lease for the next acquirer", async () => {
    const store = await freshStore();
    const clock = new ManualClock();
    const first = await acquireLease(store, "rotation", { holder: "a", ttlMs: TTL, clock });
    expect(await first!.release()).toBe(true);
    expect(await first!.release()).toBe(false);
    expect(await store.get(LEASE_COLLECTION, "lease:rotation")).toBeUndefined();
    expect(await acquireLease(store, "rotation", { holder: "b", ttlMs: TTL, clock })).toBeDefined();
  });

  it("keeps leases of different names apart", async () => {
    const store = await freshStore();
    const clock = new ManualClock();
    expect(await acquireLease(store, "rotation", { holder: "a", ttlMs: TTL, clock })).toBeDefined();
    expect(await acquireLease(store, "sweep", { holder: "a", ttlMs: TTL, clock })).toBeDefined();
  });

  it("takes over a record that is not a lease", async () => {
    const store = await freshStore();
    await store.put(LEASE_COLLECTION, "lease:rotation", { garbage: true });
    expect(
      await acquireLease(store, "rotation", { holder: "a", ttlMs: TTL, clock: new ManualClock() }),
    ).toBeDefined();
  });

  it("takes over, once, a lease record that lost its holder or has an unreadable expiry", async () => {
    const store = await freshStore();
    const clock = new ManualClock();
    const future = new Date(clock.now().getTime() + TTL).toISOString();
    for (const broken of [{ expiresAt: future }, { holder: "x", expiresAt: "soon" }]) {
      await store.put(LEASE_COLLECTION, "lease:rotation", broken);
      const leases = await Promise.all(
        ["a", "b"].map((holder) => acquireLease(store, "rotation", { holder, ttlMs: TTL, clock })),
      );
      const held = leases.filter((l) => l !== undefined);
      expect(held).toHaveLength(1);
      expect(await held[0]!.release()).toBe(true);
    }
  });

  it("rejects a non-positive TTL and an empty holder", async () => {
    const store = await freshStore();
    const clock = new ManualClock();
    await expect(acquireLease(store, "rotation", { holder: "a", ttlMs: 0, clock })).rejects.toThrow(
      RangeError,
    );
    await expect(acquireLease(store, "rotation", { holder: "", ttlMs: TTL, clock })).rejects.toThrow(
      TypeError,
    );
  });
});
