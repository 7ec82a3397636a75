/**
 * The outbox lists a notification once for all its sinks, not once per
 * record: two writes an alert instead of eight with four sinks. The listing
 * goes only when every record it names is known settled, so no pending record
 * is ever left unlisted (it would wait for the daily upkeep).
 */
import { describe, expect, it } from "vitest";
import { HOUR_MS, ManualClock } from "../../../lib/clock.js";
import type { SinkName } from "../../../lib/incidents/incident.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { deliveryIdOf, newDeliveryRecord } from "../../../lib/incidents/delivery-record.js";
import { Outbox } from "../../../lib/incidents/outbox.js";
import type { Sink } from "../../../lib/incidents/sinks/sink.js";
import { createWebhookSink } from "../../../lib/incidents/sinks/webhook.js";
import { captureLogger, grantSignal, incidentOf, notificationOf } from "./fixtures.js";
import { CountingStore } from "./outbox-cost.js";
import { MemoryStateStore } from "./memory-store.js";

const NAMES: SinkName[] = ["webhook", "slack", "teams", "pagerduty"];

/** Webhook-shaped sinks under the four names; a sink in `down` answers 503. `sent` holds each request's sink. */
function world() {
  const memory = new MemoryStateStore();
  const store = new CountingStore(memory);
  const clock = new ManualClock();
  const logger = captureLogger();
  const sent: string[] = [];
  const down = new Set<string>();
  const fetch: typeof globalThis.fetch = (url) => {
    const target = typeof url === "string" ? url : url instanceof URL ? url.href : url.url;
    const sink = target.split("/").pop()!;
    if (down.has(sink)) return Promise.resolve(new Response("busy", { status: 503 }));
    sent.push(sink);
    return Promise.resolve(new Response("ok", { status: 200 }));
  };
  const sinksOf = (names: readonly SinkName[]): Sink[] =>
    names.map((name) => ({
      ...createWebhookSink({ url: `https://alerts.example.test/${name}`, secret: "whsec_listing" }),
      name,
    }));
  const newOutbox = (names: readonly SinkName[] = NAMES) =>
    new Outbox({ store, clock, logger, sinks: sinksOf(names), fetch, options: { attemptsPerPass: 1 } });
  const outbox = newOutbox();
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  /** The outbox's entries but the incidents' unsent listings. */
  const entries = () =>
    memory
      .values<{ notification?: string; sinks?: SinkName[] }>("outbox")
      .filter((e) => e.sinks !== undefined);
  return { memory, store, clock, outbox, incidents, sent, down, newOutbox, entries };
}

describe("Outbox: one listing per notification", () => {
  it("lists a notification once for its four sinks, and removes it when the last one settles", async () => {
    const w = world();
    await w.outbox.deliverPending({ deadlineMs: 10_000 }); // the daily upkeep's first run, out of the way
    w.store.takeWrites();
    w.down.add("slack");
    await w.incidents.raise(grantSignal("g1"));
    expect(w.entries()).toEqual([expect.objectContaining({ sinks: NAMES })]);
    // The listing, and the incident's unsent listing written and removed.
    expect(w.store.takeWrites().outbox).toBe(3);

    const first = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(first).toMatchObject({ delivered: 3, failed: 1 });
    // Slack's record is pending: the listing stays, and nothing was written to it.
    expect(w.entries()).toHaveLength(1);
    expect(w.store.takeWrites().outbox ?? 0).toBe(0);

    w.down.delete("slack");
    w.clock.advance(HOUR_MS);
    w.store.take();
    expect((await w.outbox.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    // Only Slack's record was read: the three this process saw settle are not read again.
    expect(w.store.take().deliveries).toBe(1);
    expect(w.entries()).toHaveLength(0);
    expect(w.sent.sort()).toEqual([...NAMES].sort());
  });

  it("another process reads every record the listing names, and drops it once none is pending", async () => {
    const w = world();
    w.down.add("slack");
    await w.incidents.raise(grantSignal("g1"));
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    w.down.delete("slack");
    w.clock.advance(HOUR_MS);

    const other = w.newOutbox();
    w.store.take();
    expect((await other.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    expect(w.store.take().deliveries).toBe(4);
    // It did not write the listing, so it cannot tell from memory that the other three settled.
    expect(w.entries()).toHaveLength(1);
    expect((await other.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(0);
    expect(w.entries()).toHaveLength(0);
    expect(w.sent.sort()).toEqual([...NAMES].sort());
  });

  it("keeps the listing while a record it names is pending, whoever reads it", async () => {
    const w = world();
    w.down.add("slack");
    w.down.add("teams");
    await w.incidents.raise(grantSignal("g1"));
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    w.down.delete("slack");
    w.clock.advance(HOUR_MS);
    // Slack only: Teams' record stays pending, so the listing must stay for it.
    expect((await w.newOutbox().deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    w.store.take();
    expect((await w.outbox.deliverPending({ deadlineMs: 10_000, sinks: ["slack"] })).delivered).toBe(0);
    // Slack's record only: a drain for some sinks reads no other sink's record.
    expect(w.store.take().deliveries).toBe(1);
    expect(w.entries()).toHaveLength(1);

    w.down.delete("teams");
    w.clock.advance(HOUR_MS);
    expect((await w.outbox.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    expect(w.entries()).toHaveLength(0);
    expect(w.sent.sort()).toEqual([...NAMES].sort());
  });

  it("adds a sink configured since to the listing, so its record is found", async () => {
    const w = world();
    const notification = notificationOf(incidentOf(grantSignal("g1")));
    w.down.add("webhook");
    const before = w.newOutbox(["webhook"]);
    expect(await before.enqueue(notification)).toBe(1);
    await before.deliverPending({ deadlineMs: 10_000 });

    // Slack is configured now; the notification is enqueued again (a flush after a crash).
    w.down.delete("webhook");
    w.clock.advance(HOUR_MS);
    const after = w.newOutbox(["webhook", "slack"]);
    expect(await after.enqueue(notification)).toBe(1);
    expect(w.entries()).toEqual([expect.objectContaining({ sinks: ["webhook", "slack"] })]);
    expect((await after.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(2);
    expect(w.sent.sort()).toEqual(["slack", "webhook"]);
  });

  it("a listing another process extended is not removed on the word of the one that wrote it", async () => {
    const w = world();
    const notification = notificationOf(incidentOf(grantSignal("g1")));
    w.down.add("webhook");
    const first = w.newOutbox(["webhook"]);
    await first.enqueue(notification);
    // Another process, with Slack configured too, enqueues it again: the listing now names Slack.
    w.down.add("slack");
    await w.newOutbox(["webhook", "slack"]).enqueue(notification);

    // The first process settles the only record it knows of; Slack's is still pending.
    w.down.delete("webhook");
    w.clock.advance(HOUR_MS);
    expect((await first.deliverPending({ deadlineMs: 10_000, sinks: ["webhook"] })).delivered).toBe(1);
    expect(w.entries()).toEqual([expect.objectContaining({ sinks: ["webhook", "slack"] })]);

    w.down.delete("slack");
    w.clock.advance(HOUR_MS);
    const last = w.newOutbox(["webhook", "slack"]);
    expect((await last.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    await last.deliverPending({ deadlineMs: 10_000 });
    expect(w.entries()).toHaveLength(0);
    expect(w.sent.sort()).toEqual(["slack", "webhook"]);
  });

  it("drains state listed the old way, one entry per record, and drops those entries", async () => {
    const w = world();
    const record = newDeliveryRecord(
      notificationOf(incidentOf(grantSignal("old"))),
      "webhook",
      w.clock.now(),
    );
    await w.memory.put("deliveries", record.id, record);
    await w.memory.put("outbox", record.id, { sink: "webhook", createdAt: record.createdAt });
    expect(record.id).toBe(deliveryIdOf(record.notification.id, "webhook"));

    expect((await w.outbox.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    expect(w.memory.values("outbox")).toHaveLength(0);
    expect(w.sent).toEqual(["webhook"]);
  });
});
