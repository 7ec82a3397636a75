/**
 * A sink asked again while it drains goes on with what this process enqueued
 * since, instead of reading the outbox again: a slow sink's backlog is then
 * never read by the healthy sinks, however long it grows. A follow-up (a
 * resolve) may have a predecessor another process enqueued, so a sink with one
 * reads the outbox as before, and the order per incident holds.
 */
import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import type { SinkName } from "../../../lib/incidents/incident.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { FreshDeliveries } from "../../../lib/incidents/fresh-deliveries.js";
import { newDeliveryRecord } from "../../../lib/incidents/delivery-record.js";
import { Outbox } from "../../../lib/incidents/outbox.js";
import { CountingStore } from "./outbox-cost.js";
import { captureLogger, grantSignal } from "./fixtures.js";
import { heldSinks } from "./held-sinks.js";
import { MemoryStateStore } from "./memory-store.js";

function slowAndHealthyWorld({ holdHealthy = true } = {}) {
  const store = new CountingStore(new MemoryStateStore());
  const clock = new ManualClock();
  const logger = captureLogger();
  const { fetch, sinks, sent, asked, releaseSlow, releaseHealthy } = heldSinks({ holdHealthy });
  const outbox = new Outbox({ store, clock, logger, sinks, fetch });
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  const webhookBodies = () => sent.filter((s) => s.sink === "webhook").map((s) => s.body);
  return { store, clock, outbox, incidents, sent, asked, webhookBodies, releaseSlow, releaseHealthy };
}

describe("Outbox: a sink asked again goes on with what was enqueued here", () => {
  it("never reads the slow sink's backlog again, and sends each new alert once", async () => {
    const w = slowAndHealthyWorld();
    await w.outbox.deliverPending({ deadlineMs: 10_000 }); // the daily upkeep's first run, out of the way
    for (let i = 0; i < 50; i++) await w.incidents.raise(grantSignal(`backlog-${i}`));
    let asked = 1;
    const drain = w.outbox.deliverPending({ deadlineMs: 10_000, asked: () => asked });
    // Both sinks are sending what they read: the webhook its first alert, Slack (slow) its first.
    await vi.waitFor(() => expect(new Set(w.asked)).toEqual(new Set(["webhook", "slack"])));
    // 20 more grants go invalid, each answer asking again.
    for (let i = 0; i < 20; i++) {
      await w.incidents.raise(grantSignal(`new-${i}`));
      asked++;
    }
    w.store.take();
    w.releaseHealthy();
    await vi.waitFor(() => expect(w.webhookBodies()).toHaveLength(70));
    // Without `#fresh`, each of the webhook's rounds listed all 100+ outbox entries (Slack's backlog).
    expect(w.store.take().outbox ?? 0).toBe(0);
    expect(new Set(w.webhookBodies()).size).toBe(70);
    w.releaseSlow();
    const report = await drain;
    expect(report.delivered).toBe(140);
  });

  it("reads the outbox for a follow-up, and a resolve never overtakes its trigger", async () => {
    const w = slowAndHealthyWorld();
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    await w.incidents.raise(grantSignal("g1"));
    let asked = 1;
    const drain = w.outbox.deliverPending({ deadlineMs: 10_000, asked: () => asked });
    await vi.waitFor(() => expect(new Set(w.asked)).toEqual(new Set(["webhook", "slack"])));
    await w.incidents.resolve("grant.invalid:g1", "The grant is valid again.");
    asked++;
    w.store.take();
    w.releaseHealthy();
    await vi.waitFor(() => expect(w.webhookBodies()).toHaveLength(2));
    expect(w.store.take().outbox ?? 0).toBeGreaterThan(0);
    expect(w.webhookBodies()[1]).toContain("incident.resolved");
    w.releaseSlow();
    await drain;
    const slack = w.sent
      .filter((s) => s.sink === "slack")
      .map((s) => JSON.parse(s.body) as { event: string });
    expect(slack.map((b) => b.event)).toEqual(["incident.triggered", "incident.resolved"]);
  });
});

describe("IncidentManager background delivery: a sink done with its alerts stays in the drain", () => {
  it("sends the next answer's alert while the slow sink still holds the drain", async () => {
    const w = slowAndHealthyWorld({ holdHealthy: false });
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    await w.incidents.raise(grantSignal("g1"));
    await w.incidents.deliver({ background: true, deadlineMs: 0 });
    await vi.waitFor(() => expect(w.webhookBodies()).toHaveLength(1));
    await vi.waitFor(() => expect(w.asked).toContain("slack"));
    // The webhook has nothing left; Slack is still sending g1. The next answer asks again.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await w.incidents.raise(grantSignal("g2"));
    await w.incidents.deliver({ background: true, deadlineMs: 0 });
    // Before, the webhook had left the drain: g2 waited for Slack to finish g1 (up to a minute).
    await vi.waitFor(() => expect(w.webhookBodies()).toHaveLength(2), { timeout: 2_000 });
    expect(w.webhookBodies()[1]).toContain("g2");
    expect(w.sent.filter((s) => s.sink === "slack")).toHaveLength(0);
    w.releaseSlow();
    await w.incidents.backgroundIdle();
    expect(w.sent.filter((s) => s.sink === "slack")).toHaveLength(2);
  });
});

describe("FreshDeliveries", () => {
  const record = (id: string, seq: number, sink: SinkName = "webhook") => {
    const r = newDeliveryRecord(
      {
        type: "announcement",
        id,
        createdAt: "2026-12-01T00:00:00.000Z",
        sinks: [sink],
        announcement: {
          event: "rotation.succeeded",
          idempotencyKey: id,
          severity: "info",
          summary: id,
          details: {},
        },
      } as never,
      sink,
      new Date("2026-12-01T00:00:00.000Z"),
    );
    return { key: r.id, etag: `e-${id}`, value: { ...r, seq } };
  };

  it("hands each record out once, per sink, without those the drain already had", () => {
    const fresh = new FreshDeliveries();
    fresh.add(record("a", 0));
    fresh.add(record("b", 1));
    fresh.add(record("c", 0, "slack"));
    const had = new Set([record("a", 0).key]);
    expect(
      fresh
        .take("webhook", had)
        ?.flat()
        .map((i) => i.etag),
    ).toEqual(["e-b"]);
    expect(fresh.take("webhook")).toEqual([]);
    expect(
      fresh
        .take("slack")
        ?.flat()
        .map((i) => i.etag),
    ).toEqual(["e-c"]);
  });

  it("sends the sink to the outbox for a follow-up, past its limit, and forgets what a read will see", () => {
    const fresh = new FreshDeliveries(2);
    fresh.add(record("a", 0));
    fresh.add(record("follow-up", 2));
    expect(fresh.take("webhook")).toBeUndefined();
    expect(fresh.take("webhook")).toEqual([]);
    for (const id of ["x", "y", "z"]) fresh.add(record(id, 0));
    expect(fresh.take("webhook")).toBeUndefined();
    fresh.add(record("w", 0));
    fresh.forget(["webhook"]);
    expect(fresh.take("webhook")).toEqual([]);
  });
});
