/**
 * The pass's run record (`runs/secretWatchdog`) is one type, written by the
 * pass and read back by the next pass's connector step: what the step judges
 * its grant read against comes from it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { FileStateStore } from "../../../lib/state/file-store.js";
import { readPassRecord, recentlyExpiredConnectorSecret } from "../../../lib/rotation/pass-record.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("the pass's run record", () => {
  it("carries the valid grants a pass read to the next pass, which distrusts a read of none after some", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const first = await w.pass();
    expect(first.rotation.decision).toBe("rotated");
    const store = new FileStateStore(w.stateDir);
    const recorded = await readPassRecord(store);
    expect(recorded?.startedAt).toBe(first.startedAt);
    expect(recorded?.migration?.validGrants).toBe(3);

    // Every grant gone at once: more likely a bad answer than the truth, judged by the record's count.
    for (const g of [...w.sim.tenant.nylas.grants]) w.sim.tenant.nylas.removeGrant(g.id);
    const second = await w.pass();
    expect(second.migration.complete).toBe(false);
    expect(w.logs).toContain(
      "warn migration: Nylas listed no valid grant where the previous pass read 3; nothing is decided on this read.",
    );
  });

  it("reads a record written before the pass kept its secrets and migration", async () => {
    world = await startWorld({ seed: false });
    const store = new FileStateStore(world.stateDir);
    await store.put("runs", "secretWatchdog", { startedAt: "2026-11-23T00:00:00Z" });
    expect(await readPassRecord(store)).toEqual({ startedAt: "2026-11-23T00:00:00Z" });
    expect(await recentlyExpiredConnectorSecret(store, new Date("2026-11-23T12:00:00Z"))).toBeUndefined();
  });
});
