/**
 * `IncidentManager.deliver` (every pass, every webhook answer) first finishes
 * copying notifications a crash left inside incident records. It reads the
 * incidents listed as unsent, not every incident ever opened: its cost does not
 * grow with resolved incidents. Every incident is read once a day (the first
 * time: state from before the listing).
 */
import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";
import type { DeliveryRecord } from "../../../lib/incidents/outbox.js";
import type { Outbox } from "../../../lib/incidents/outbox.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { costWorld, type CostWorld } from "./outbox-cost.js";
import { grantSignal } from "./fixtures.js";
import { MemoryStateStore } from "./memory-store.js";

/** `count` incidents opened and resolved, their alerts delivered: what months of grants leave behind. */
async function resolvedIncidents(w: CostWorld, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await w.incidents.raise(grantSignal(`g${i}`));
    await w.incidents.resolve(`grant.invalid:g${i}`, "re-authenticated");
  }
  // The first deliver also runs the daily read of every incident; what follows is the everyday cost.
  const report = await w.incidents.deliver({ deadlineMs: 60_000 });
  if (report.delivered !== 2 * count) throw new Error(`delivered ${report.delivered} of ${2 * count}`);
}

async function measure(count: number) {
  const w = costWorld(new MemoryStateStore());
  await resolvedIncidents(w, count);
  w.clock.advance(HOUR_MS);
  w.store.take();
  const idle = await w.incidents.deliver({ deadlineMs: 10_000 });
  const idleReads = w.store.take();
  await w.incidents.raise(grantSignal("new"));
  w.store.take();
  const busy = await w.incidents.deliver({ deadlineMs: 10_000 });
  const busyReads = w.store.take();
  expect(idle.delivered).toBe(0);
  expect(busy.delivered).toBe(1);
  return { idleReads, busyReads };
}

describe("IncidentManager.deliver: the cost of finishing unsent notifications", () => {
  it("reads the same with 10 or 1000 resolved incidents on record, and no incident at all when none is unsent", async () => {
    const few = await measure(10);
    const many = await measure(1000);
    expect(many.idleReads).toEqual(few.idleReads);
    expect(many.busyReads).toEqual(few.busyReads);
    expect(few.idleReads.incidents ?? 0).toBe(0);
    expect(few.busyReads.incidents ?? 0).toBe(0);
  }, 60_000);

  it("a notification a crash left in its incident is still delivered, once, by the next deliver", async () => {
    const memory = new MemoryStateStore();
    const w = costWorld(memory);
    await resolvedIncidents(w, 5);
    let crash = true;
    const crashing = Object.create(w.outbox) as Outbox;
    crashing.enqueue = async (n) => {
      if (crash) throw new Error("process died");
      return w.outbox.enqueue(n);
    };
    const dying = new IncidentManager({
      store: w.store,
      clock: w.clock,
      logger: w.logger,
      repeatHours: 24,
      outbox: crashing,
    });
    await expect(dying.raise(grantSignal("crashed"))).rejects.toThrow("process died");
    crash = false;

    w.store.take();
    const report = await w.incidents.deliver({ deadlineMs: 10_000 });
    expect(report.delivered).toBe(1);
    // The one listed incident, not the five resolved ones.
    expect(w.store.take().incidents).toBe(1);
    expect(memory.values<{ unsent: unknown[] }>("incidents").every((r) => r.unsent.length === 0)).toBe(true);
    expect((await w.incidents.deliver({ deadlineMs: 10_000 })).delivered).toBe(0);
    const events = memory
      .values<DeliveryRecord>("deliveries")
      .filter((d) => d.orderKey === "grant.invalid:crashed")
      .map((d) => d.state);
    expect(events).toEqual(["delivered"]);
  });

  it("an incident whose listing was lost is found by the daily read", async () => {
    const memory = new MemoryStateStore();
    const w = costWorld(memory);
    await resolvedIncidents(w, 3);
    // A record with a notification inside and no listing: state written before the listing existed.
    const crashing = Object.create(w.outbox) as Outbox;
    crashing.enqueue = () => Promise.reject(new Error("process died"));
    const dying = new IncidentManager({
      store: w.store,
      clock: w.clock,
      logger: w.logger,
      repeatHours: 24,
      outbox: crashing,
    });
    await expect(dying.raise(grantSignal("old"))).rejects.toThrow("process died");
    for await (const entry of memory.list("outbox")) await memory.delete("outbox", entry.key);

    expect((await w.incidents.deliver({ deadlineMs: 10_000 })).delivered).toBe(0);
    w.clock.advance(DAY_MS);
    expect((await w.incidents.deliver({ deadlineMs: 10_000 })).delivered).toBe(1);
    expect(w.sent).toHaveLength(7);
  });
});
