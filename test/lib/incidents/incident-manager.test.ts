import { describe, expect, it } from "vitest";
import { HOUR_MS, ManualClock } from "../../../lib/clock.js";
import type { Notification } from "../../../lib/incidents/incident.js";
import { IncidentManager, incidentStorageKey } from "../../../lib/incidents/incident-manager.js";
import { Outbox, type DeliveryRecord } from "../../../lib/incidents/outbox.js";
import { createPagerDutySink } from "../../../lib/incidents/sinks/pagerduty.js";
import { createWebhookSink } from "../../../lib/incidents/sinks/webhook.js";
import { captureLogger, grantSignal } from "./fixtures.js";
import { MemoryStateStore } from "./memory-store.js";

function setup(
  options: { repeatHours?: number; pagerDutyMinSeverity?: "critical" | "warning" | "info" } = {},
) {
  const store = new MemoryStateStore();
  const clock = new ManualClock();
  const logger = captureLogger();
  const outbox = new Outbox({
    store,
    clock,
    logger,
    // Never contacted here: these tests look at what is queued, not at delivery.
    sinks: [
      createWebhookSink({ url: "https://hooks.example.com/alerts" }),
      createPagerDutySink({ routingKey: "R".repeat(32), eventsUrl: "https://events.example.com/v2/enqueue" }),
    ],
  });
  const incidents = new IncidentManager({
    store,
    clock,
    logger,
    repeatHours: options.repeatHours ?? 24,
    outbox,
    ...(options.pagerDutyMinSeverity ? { pagerDutyMinSeverity: options.pagerDutyMinSeverity } : {}),
  });
  /** Notifications queued for the webhook sink, in order. */
  const queued = (): Notification[] =>
    store
      .values<DeliveryRecord>("deliveries")
      .filter((d) => d.sink === "webhook")
      .sort((a, b) => (a.createdAt === b.createdAt ? a.seq - b.seq : a.createdAt < b.createdAt ? -1 : 1))
      .map((d) => d.notification);
  const events = () => queued().map((n) => n.event);
  /** Notifications queued for PagerDuty, in order. */
  const paged = () =>
    store
      .values<DeliveryRecord>("deliveries")
      .filter((d) => d.sink === "pagerduty")
      .sort((a, b) => a.seq - b.seq)
      .map((d) => `${d.notification.type === "incident" ? d.notification.event : "announcement"}`);
  return { store, clock, logger, outbox, incidents, queued, events, paged };
}

describe("PAGERDUTY_MIN_SEVERITY", () => {
  it("keeps a warning from PagerDuty, pages when it escalates to critical, and sends the resolve only of a page", async () => {
    const { incidents, events, paged } = setup({ pagerDutyMinSeverity: "critical" });
    await incidents.raise(grantSignal());
    expect(events()).toEqual(["incident.triggered"]);
    expect(paged()).toEqual([]);
    await incidents.raise(grantSignal(undefined, { severity: "critical" }));
    expect(paged()).toEqual(["incident.repeated"]);
    await incidents.resolve(grantSignal().key, "fixed");
    expect(paged()).toEqual(["incident.repeated", "incident.resolved"]);
    expect(events()).toEqual(["incident.triggered", "incident.repeated", "incident.resolved"]);
  });

  it("a warning that resolves without ever paging sends PagerDuty nothing at all", async () => {
    const { incidents, events, paged } = setup({ pagerDutyMinSeverity: "critical" });
    await incidents.raise(grantSignal("3f1c2a7e-0000-4000-8000-000000000009"));
    await incidents.resolve(grantSignal("3f1c2a7e-0000-4000-8000-000000000009").key, "fixed");
    expect(events()).toEqual(["incident.triggered", "incident.resolved"]);
    expect(paged()).toEqual([]);
  });
});

describe("IncidentManager.raise", () => {
  it("opens an incident with one trigger; raising it again notifies nobody", async () => {
    const { incidents, events, store } = setup();
    const first = await incidents.raise(grantSignal());
    expect(first.notified).toBe("trigger");
    expect(first.incident).toMatchObject({
      status: "firing",
      notifications: 1,
      firstSeen: "2026-11-23T12:00:00.000Z",
      lastNotified: "2026-11-23T12:00:00.000Z",
      resolvedAt: null,
    });
    const writes = store.writes.incidents;
    const second = await incidents.raise(grantSignal());
    expect(second.notified).toBeNull();
    expect(events()).toEqual(["incident.triggered"]);
    // Nothing changed: the sweep re-raising every open incident costs no write.
    expect(store.writes.incidents).toBe(writes);
    // One record per configured sink.
    expect(
      store
        .values<DeliveryRecord>("deliveries")
        .map((d) => d.sink)
        .sort(),
    ).toEqual(["pagerduty", "webhook"]);
  });

  it("repeats once repeatHours have passed since the last notification, not before", async () => {
    const { incidents, events, clock } = setup({ repeatHours: 24 });
    await incidents.raise(grantSignal());
    clock.advance(23 * HOUR_MS);
    expect((await incidents.raise(grantSignal())).notified).toBeNull();
    clock.advance(HOUR_MS);
    const repeat = await incidents.raise(grantSignal());
    expect(repeat.notified).toBe("repeat");
    expect(repeat.incident.notifications).toBe(2);
    expect((await incidents.raise(grantSignal())).notified).toBeNull();
    expect(events()).toEqual(["incident.triggered", "incident.repeated"]);
  });

  it("repeats at once when the severity escalates, and not when it drops", async () => {
    const { incidents, events, clock } = setup();
    await incidents.raise(grantSignal(undefined, { severity: "warning" }));
    clock.advance(60_000);
    const escalated = await incidents.raise(grantSignal(undefined, { severity: "critical" }));
    expect(escalated.notified).toBe("repeat");
    expect(escalated.incident.severity).toBe("critical");
    clock.advance(60_000);
    const lowered = await incidents.raise(grantSignal(undefined, { severity: "warning" }));
    expect(lowered.notified).toBeNull();
    expect(lowered.incident.severity).toBe("warning");
    expect(events()).toEqual(["incident.triggered", "incident.repeated"]);
    expect((await incidents.get(grantSignal().key))?.severity).toBe("warning");
  });

  it("updates details without notifying, and the next repeat carries them", async () => {
    const { incidents, queued, clock } = setup();
    await incidents.raise(grantSignal());
    clock.advance(HOUR_MS);
    const refreshed = await incidents.raise(
      grantSignal(undefined, { details: { grant_id: "g", email: "bob@contoso.com" } }),
    );
    expect(refreshed.notified).toBeNull();
    expect(refreshed.incident.lastChanged).toBe("2026-11-23T13:00:00.000Z");
    expect(refreshed.incident.firstSeen).toBe("2026-11-23T12:00:00.000Z");
    clock.advance(24 * HOUR_MS);
    await incidents.raise(grantSignal(undefined, { details: { grant_id: "g", email: "bob@contoso.com" } }));
    const last = queued().at(-1)!;
    expect(last.type === "incident" && last.incident.details.email).toBe("bob@contoso.com");
  });

  it("re-opens a resolved incident with a new trigger", async () => {
    const { incidents, events, clock } = setup();
    await incidents.raise(grantSignal());
    await incidents.resolve(grantSignal().key, "grant valid again");
    clock.advance(HOUR_MS);
    const reopened = await incidents.raise(grantSignal());
    expect(reopened.notified).toBe("trigger");
    expect(reopened.incident).toMatchObject({
      status: "firing",
      resolvedAt: null,
      notifications: 1,
      firstSeen: "2026-11-23T13:00:00.000Z",
    });
    expect(reopened.incident.resolveNote).toBeUndefined();
    expect(events()).toEqual(["incident.triggered", "incident.resolved", "incident.triggered"]);
  });

  it("concurrent raises of one key (webhook and sweep) make one incident and one notification", async () => {
    const { incidents, events, store } = setup();
    const results = await Promise.all(Array.from({ length: 5 }, () => incidents.raise(grantSignal())));
    expect(results.filter((r) => r.notified === "trigger")).toHaveLength(1);
    expect(results.filter((r) => r.notified !== null)).toHaveLength(1);
    expect(store.values("incidents")).toHaveLength(1);
    expect(events()).toEqual(["incident.triggered"]);
  });

  it("concurrent raises of a due repeat send one repeat", async () => {
    const { incidents, events, clock } = setup();
    await incidents.raise(grantSignal());
    clock.advance(25 * HOUR_MS);
    const results = await Promise.all(Array.from({ length: 5 }, () => incidents.raise(grantSignal())));
    expect(results.filter((r) => r.notified === "repeat")).toHaveLength(1);
    expect(events()).toEqual(["incident.triggered", "incident.repeated"]);
  });

  it("rejects a signal without a key or with an unknown severity", async () => {
    const { incidents } = setup();
    await expect(incidents.raise(grantSignal(undefined, { key: " " }))).rejects.toThrow(TypeError);
    await expect(
      incidents.raise(grantSignal(undefined, { severity: "fatal" as unknown as "critical" })),
    ).rejects.toThrow(/not critical, warning or info/);
  });
});

describe("IncidentManager.resolve", () => {
  it("resolves once; resolving again, or an unknown key, does nothing", async () => {
    const { incidents, events, clock } = setup();
    await incidents.raise(grantSignal());
    clock.advance(HOUR_MS);
    const resolved = await incidents.resolve(grantSignal().key, "grant.updated: valid again");
    expect(resolved).toMatchObject({
      status: "resolved",
      resolvedAt: "2026-11-23T13:00:00.000Z",
      resolveNote: "grant.updated: valid again",
      notifications: 2,
    });
    expect(await incidents.resolve(grantSignal().key, "again")).toBeUndefined();
    expect(await incidents.resolve("grant.invalid:unknown", "never raised")).toBeUndefined();
    expect(events()).toEqual(["incident.triggered", "incident.resolved"]);
  });

  it("concurrent resolves send one resolve", async () => {
    const { incidents, events } = setup();
    await incidents.raise(grantSignal());
    const results = await Promise.all(
      Array.from({ length: 5 }, () => incidents.resolve(grantSignal().key, "ok")),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect(events()).toEqual(["incident.triggered", "incident.resolved"]);
  });

  it("a raise and a resolve racing end in a consistent order", async () => {
    const { incidents, queued } = setup();
    await incidents.raise(grantSignal());
    await Promise.all([incidents.resolve(grantSignal().key, "ok"), incidents.raise(grantSignal())]);
    const seqs = queued().map((n) => (n.type === "incident" ? n.seq : 0));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe("IncidentManager queries", () => {
  it("open() streams firing incidents only; get() reads one", async () => {
    const { incidents } = setup();
    await incidents.raise(grantSignal("g1"));
    await incidents.raise(grantSignal("g2"));
    await incidents.raise(grantSignal("g3"));
    await incidents.resolve("grant.invalid:g2", "fixed");
    const open: string[] = [];
    for await (const incident of incidents.open()) open.push(incident.key);
    expect(open.sort()).toEqual(["grant.invalid:g1", "grant.invalid:g3"]);
    expect((await incidents.get("grant.invalid:g2"))?.status).toBe("resolved");
    expect(await incidents.get("grant.invalid:nope")).toBeUndefined();
  });

  it("keys that storage would refuse are stored under a hash, and still found", async () => {
    const { incidents } = setup();
    const key = `secret.expiring:app/with#odd?chars:${"k".repeat(300)}`;
    expect(incidentStorageKey(key)).toMatch(/^h-[0-9a-f]{64}$/);
    await incidents.raise(grantSignal(undefined, { key }));
    expect((await incidents.get(key))?.key).toBe(key);
  });
});

describe("IncidentManager durability", () => {
  it("a notification decided before a crash reaches the outbox on flushUnsent", async () => {
    const { store, clock, logger } = setup();
    const outbox = new Outbox({
      store,
      clock,
      logger,
      sinks: [createWebhookSink({ url: "https://hooks.example.com/alerts" })],
    });
    let crash = true;
    const crashing = Object.create(outbox) as Outbox;
    crashing.enqueue = async (n) => {
      if (crash) throw new Error("process died");
      return outbox.enqueue(n);
    };
    const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox: crashing });
    await expect(incidents.raise(grantSignal())).rejects.toThrow("process died");
    expect(store.values("deliveries")).toHaveLength(0);
    crash = false;
    expect(await incidents.flushUnsent()).toBe(1);
    expect(store.values<DeliveryRecord>("deliveries").map((d) => d.notification.event)).toEqual([
      "incident.triggered",
    ]);
    // Done once: flushing again adds nothing.
    expect(await incidents.flushUnsent()).toBe(0);
    await incidents.raise(grantSignal());
    expect(store.values("deliveries")).toHaveLength(1);
  });
});

describe("IncidentManager.announce", () => {
  const reauth = {
    event: "grant.reauth_requested",
    idempotencyKey: "reauth:rot-1:g1",
    severity: "info" as const,
    summary: "Please re-authenticate alice@contoso.com",
    details: { rotation_id: "rot-1" },
    grant: { grantId: "g1", email: "alice@contoso.com", deadline: "2027-01-01T00:00:00.000Z" },
  };

  it("enqueues once per idempotency key, to the generic webhook only by default", async () => {
    const { incidents, store } = setup();
    expect(await incidents.announce(reauth)).toBe(true);
    expect(await incidents.announce(reauth)).toBe(false);
    const records = store.values<DeliveryRecord>("deliveries");
    expect(records.map((r) => r.sink)).toEqual(["webhook"]);
    expect(records[0]!.notification).toMatchObject({ type: "announcement", event: "grant.reauth_requested" });
  });

  it("concurrent announces of one key enqueue once", async () => {
    const { incidents, store } = setup();
    const results = await Promise.all(Array.from({ length: 4 }, () => incidents.announce(reauth)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(store.values("deliveries")).toHaveLength(1);
  });

  it("refuses malformed announcements", async () => {
    const { incidents } = setup();
    const { grant: _grant, ...withoutGrant } = reauth;
    await expect(incidents.announce(withoutGrant)).rejects.toThrow(/needs `grant`/);
    await expect(incidents.announce({ ...reauth, event: "incident.triggered" })).rejects.toThrow(
      /raise\/resolve/,
    );
    await expect(
      incidents.announce({ ...reauth, event: "rotation.succeeded", sinks: ["pagerduty"] }),
    ).rejects.toThrow(/PagerDuty only receives incidents/);
  });
});
