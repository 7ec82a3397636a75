/**
 * A delivery record is created claimed: the process that wrote it sends it
 * without a second write, and no other driver sends it while that claim holds.
 * The etag the creation returned is the proof that the claim is still ours.
 */
import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import { CreationClaims } from "../../../lib/incidents/creation-claims.js";
import type { DeliveryRecord } from "../../../lib/incidents/delivery-record.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { Outbox } from "../../../lib/incidents/outbox.js";
import { createWebhookSink } from "../../../lib/incidents/sinks/webhook.js";
import type { StoredItem } from "../../../lib/state/store.js";
import { captureLogger, grantSignal } from "./fixtures.js";
import { CountingStore } from "./outbox-cost.js";
import { MemoryStateStore } from "./memory-store.js";

const LEASE_MS = 120_000;

/** A webhook sink whose answers wait while `hold` is set; `sent` counts requests. */
function world() {
  const store = new CountingStore(new MemoryStateStore());
  const clock = new ManualClock();
  const logger = captureLogger();
  const sent: string[] = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  const fetch: typeof globalThis.fetch = async (_url, init) => {
    sent.push(typeof init?.body === "string" ? init.body : "");
    await gate;
    return new Response("ok", { status: 200 });
  };
  const sinks = [createWebhookSink({ url: "https://alerts.example.test/hook", secret: "whsec_claims" })];
  const newOutbox = () => new Outbox({ store, clock, logger, sinks, fetch, options: { leaseMs: LEASE_MS } });
  const outbox = newOutbox();
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  const hold = () => {
    gate = new Promise((resolve) => (open = resolve));
  };
  const release = () => open();
  return { store, clock, outbox, incidents, sent, newOutbox, hold, release };
}

async function onlyRecord(store: CountingStore): Promise<DeliveryRecord> {
  const all: DeliveryRecord[] = [];
  for await (const item of store.list<DeliveryRecord>("deliveries")) all.push(item.value);
  expect(all).toHaveLength(1);
  return all[0]!;
}

describe("Outbox: records are created claimed", () => {
  it("the creator sends on the claim it created: one write to create, one to settle", async () => {
    const w = world();
    await w.outbox.deliverPending({ deadlineMs: 10_000 }); // the daily upkeep's first run, out of the way
    w.store.takeWrites();
    await w.incidents.raise(grantSignal("g1"));
    expect(w.store.takeWrites().deliveries).toBe(1);
    const created = await onlyRecord(w.store);
    expect(Date.parse(created.leaseUntil!) - w.clock.now().getTime()).toBe(LEASE_MS);

    const report = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(report.delivered).toBe(1);
    expect(w.sent).toHaveLength(1);
    // The settlement only: no claim was written.
    expect(w.store.takeWrites().deliveries).toBe(1);
    expect(await onlyRecord(w.store)).toMatchObject({ state: "delivered", attempts: 1, leaseUntil: null });
  });

  it("with less than half its lease left, the creator claims it again before sending", async () => {
    const w = world();
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    await w.incidents.raise(grantSignal("g1"));
    w.store.takeWrites();
    w.clock.advance(LEASE_MS / 2 + 1);
    expect((await w.outbox.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    // A claim with a fresh lease, then the settlement.
    expect(w.store.takeWrites().deliveries).toBe(2);
    expect(w.sent).toHaveLength(1);
  });

  it("another driver leaves it alone while the claim holds, and sends it once it lapses (the creator stopped)", async () => {
    const w = world();
    await w.incidents.raise(grantSignal("g1"));
    const other = w.newOutbox();
    expect(await other.deliverPending({ deadlineMs: 10_000 })).toMatchObject({ delivered: 0, waiting: 1 });
    expect(w.sent).toHaveLength(0);

    w.clock.advance(LEASE_MS);
    expect((await other.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(1);
    expect((await w.outbox.deliverPending({ deadlineMs: 10_000 })).delivered).toBe(0);
    expect(w.sent).toHaveLength(1);
  });

  it("the creator never sends on a claim the record no longer carries", async () => {
    const w = world();
    await w.incidents.raise(grantSignal("g1"));
    // The creator's claim lapses; another driver claims the record and is sending it.
    w.clock.advance(LEASE_MS);
    w.hold();
    const other = w.newOutbox().deliverPending({ deadlineMs: 10_000 });
    try {
      await vi.waitFor(() => expect(w.sent).toHaveLength(1));
      // Back to a moment inside the creator's lease: only the etag can tell the claim is gone.
      w.clock.advance(-LEASE_MS);
      const mine = await w.outbox.deliverPending({ deadlineMs: 10_000 });
      expect(mine.delivered).toBe(0);
      expect(w.sent).toHaveLength(1);
    } finally {
      w.release();
    }
    expect((await other).delivered).toBe(1);
    expect(w.sent).toHaveLength(1);
  });
});

describe("CreationClaims", () => {
  /** A created record's item: only its key, etag and lease matter here. */
  const created = (id: string, etag: string, leaseUntilMs: number) =>
    ({
      key: id,
      etag,
      value: { leaseUntil: new Date(leaseUntilMs).toISOString() },
    }) as StoredItem<DeliveryRecord>;

  it("proves a claim once, only with the creation's etag and only while its lease holds", () => {
    const claims = new CreationClaims();
    claims.add(created("a", "etag-a", 1_000), 0);
    claims.add(created("b", "etag-b", 1_000), 0);
    expect(claims.take("a", "other-etag", 10)).toBe(false);
    expect(claims.take("a", "etag-a", 10)).toBe(true);
    expect(claims.take("a", "etag-a", 10)).toBe(false);
    expect(claims.take("b", "etag-b", 1_000)).toBe(false);
  });

  it("forgets claims whose lease lapsed", () => {
    const claims = new CreationClaims();
    for (let i = 0; i < 100; i++) claims.add(created(`old-${i}`, "e", 1_000 + i), i);
    claims.add(created("new", "e", 5_000), 2_000);
    expect(claims.size).toBe(1);
    expect(claims.take("new", "e", 2_000)).toBe(true);
  });
});
