/**
 * A drain reads what is pending, not every alert ever sent: its reads do not
 * grow with the delivered records kept for the idempotency window. Settled
 * records are read once a day, by the upkeep that purges them; state from
 * before the pending index is still delivered, once.
 */
import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";
import { newDeliveryRecord, type DeliveryRecord } from "../../../lib/incidents/delivery-record.js";
import type { Notification } from "../../../lib/incidents/incident.js";
import { costWorld, recordWebhookAnswers } from "./outbox-cost.js";
import { grantSignal, incidentOf, notificationOf } from "./fixtures.js";
import { MemoryStateStore } from "./memory-store.js";

async function measure(answers: number) {
  const w = costWorld(new MemoryStateStore());
  await recordWebhookAnswers(w, answers);
  w.clock.advance(HOUR_MS);
  w.store.take();
  const idle = await w.outbox.deliverPending({ deadlineMs: 10_000 });
  const idleReads = w.store.take();
  await w.incidents.raise(grantSignal("g1"));
  w.store.take();
  const busy = await w.outbox.deliverPending({ deadlineMs: 10_000 });
  const busyReads = w.store.take();
  expect(idle.delivered).toBe(0);
  expect(busy.delivered).toBe(1);
  return { idleReads, busyReads };
}

describe("Outbox: the cost of a drain", () => {
  it("reads the same with 10 or 1000 webhook answers on record", async () => {
    const few = await measure(10);
    const many = await measure(1000);
    expect(many.idleReads).toEqual(few.idleReads);
    expect(many.busyReads).toEqual(few.busyReads);
    // Nothing pending: no delivery record is read at all. One pending: that one.
    expect(few.idleReads.deliveries ?? 0).toBe(0);
    expect(few.busyReads.deliveries).toBe(1);
  });

  it("reads every record at most once a day (the upkeep), and purges settled ones after retention", async () => {
    const memory = new MemoryStateStore();
    const w = costWorld(memory);
    await recordWebhookAnswers(w, 50);
    w.clock.advance(25 * HOUR_MS);
    w.store.take();
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(w.store.take().deliveries).toBeGreaterThanOrEqual(50);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(w.store.take().deliveries ?? 0).toBe(0);

    w.clock.advance(31 * DAY_MS);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(memory.values("deliveries")).toHaveLength(0);
    expect(w.sent).toHaveLength(50);
  });
});

describe("Outbox: pending records the index does not list", () => {
  it("delivers state written before the index existed, each record once", async () => {
    const memory = new MemoryStateStore();
    const w = costWorld(memory);
    const now = w.clock.now();
    const notifications: Notification[] = [1, 2, 3].map((i) =>
      notificationOf(incidentOf(grantSignal(`old${i}`))),
    );
    for (const n of notifications) {
      const record = newDeliveryRecord(n, "webhook", now);
      await memory.put("deliveries", record.id, record);
    }
    const delivered = newDeliveryRecord(notificationOf(incidentOf(grantSignal("done"))), "webhook", now);
    await memory.put("deliveries", delivered.id, {
      ...delivered,
      state: "delivered",
      settledAt: now.toISOString(),
    });

    const first = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(first.delivered).toBe(3);
    const second = await w.newOutbox().deliverPending({ deadlineMs: 10_000 });
    expect(second.delivered).toBe(0);
    expect(w.sent).toHaveLength(3);
    expect(memory.values<DeliveryRecord>("deliveries").every((r) => r.state === "delivered")).toBe(true);
    expect(memory.values("outbox")).toHaveLength(0);
  });

  it("lists a record again when its listing was lost (a crash between the two writes)", async () => {
    const memory = new MemoryStateStore();
    const w = costWorld(memory);
    await w.outbox.deliverPending({ deadlineMs: 10_000 }); // the first upkeep: nothing to migrate

    const announce = (key: string) =>
      w.incidents.announce({
        event: "rotation.succeeded",
        idempotencyKey: key,
        severity: "info",
        summary: "Rotated the connector secret",
        details: {},
        sinks: ["webhook"],
      });
    expect(await announce("rotation:r1")).toBe(true);
    expect(await announce("rotation:r2")).toBe(true);
    for await (const entry of memory.list("outbox")) await memory.delete("outbox", entry.key);

    // Unlisted: not read, not sent.
    expect((await w.outbox.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(0);
    // Announced again (the next pass does): listed again, sent once.
    expect(await announce("rotation:r1")).toBe(false);
    expect((await w.outbox.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    // Never announced again: the daily upkeep finds it, and the next drain sends it.
    w.clock.advance(DAY_MS);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(w.sent.map((b) => (JSON.parse(b) as { event: string }).event)).toEqual([
      "rotation.succeeded",
      "rotation.succeeded",
    ]);
    expect(memory.values<DeliveryRecord>("deliveries").every((r) => r.state === "delivered")).toBe(true);
  });
});
