/**
 * At-least-once, unordered Nylas deliveries meet alert sinks that fail: a
 * notification delivered three times (one after another, at once, or as
 * Nylas's own retry with a new `webhook_delivery_attempt`) alerts once per
 * sink; the webhook and the sweep raising the same key make one incident; and
 * sinks that fail for a while (5xx, 429 with Retry-After, connection resets)
 * receive every alert exactly once after the sweeps re-drive them.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
const MINUTE_MS = 60_000;
import { sweepGrants } from "../../lib/grants/grant-passes.js";
import type { DeliveryRecord } from "../../lib/incidents/outbox.js";
import type { SimGrant } from "../../lib/sim/index.js";
import { acceptedAlerts, oncePerSink, tally } from "../helpers/alerts.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

let w: World;
const key = (g: SimGrant) => `grant.invalid:${g.id}`;

beforeAll(async () => {
  w = await startWorld({
    seed: {
      grantEmails: Array.from({ length: 9 }, (_, i) => `user${i}@contoso.com`),
    },
  });
});

afterAll(async () => {
  await w?.close();
});

beforeEach(() => {
  w.sim.faults.clear();
  w.sim.sinks.clear();
});

// Delivery goes on after an answer: let it finish, so no test counts another's alerts.
afterEach(async () => {
  await (await w.deps.incidents()).backgroundIdle();
});

async function pending(): Promise<DeliveryRecord[]> {
  const store = await w.deps.store();
  const out: DeliveryRecord[] = [];
  for await (const item of store.list<DeliveryRecord>("deliveries"))
    if (item.value.state === "pending") out.push(item.value);
  return out;
}

/** Sweeps half an hour apart (the timer's schedule) until no alert is pending. */
async function sweepUntilDelivered(maxSweeps = 12): Promise<number> {
  for (let n = 1; n <= maxSweeps; n++) {
    w.manualClock!.advance(30 * MINUTE_MS);
    await sweepGrants(w.deps);
    if ((await pending()).length === 0) return n;
  }
  throw new Error(`alerts still pending after ${maxSweeps} sweeps: ${JSON.stringify(await pending())}`);
}

function expire(g: SimGrant): void {
  g.grant_status = "invalid";
  w.sim.tenant.nylas.touch();
}

describe("duplicates", () => {
  it("the same notification delivered three times in a row → one incident, one alert per sink", async () => {
    const g = w.grants[0]!;
    expire(g);
    const built = w.build("grant.expired", g);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await w.deliver(built));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => (JSON.parse(a.text) as { status: string }).status)).toEqual([
      "accepted",
      "duplicate",
      "duplicate",
    ]);
    expect((await w.incidents()).filter((i) => i.key === key(g))).toHaveLength(1);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["triggered", key(g)]]));
  });

  it("the same notification delivered three times at once → one alert per sink", async () => {
    const g = w.grants[1]!;
    expire(g);
    const built = w.build("grant.expired", g);
    const answers = await Promise.all([w.deliver(built), w.deliver(built), w.deliver(built)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await w.incidents()).filter((i) => i.key === key(g))).toHaveLength(1);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["triggered", key(g)]]));
  });

  it("Nylas's retries (same id, next webhook_delivery_attempt, a different body and signature) → deduplicated by id", async () => {
    const g = w.grants[2]!;
    expire(g);
    const id = crypto.randomUUID();
    const attempts = [1, 2, 3].map((attempt) =>
      w.sim.nylas.buildNotification("grant.expired", g, {
        webhookSecret: w.secrets.NYLAS_WEBHOOK_SECRET!,
        id,
        attempt,
      }),
    );
    expect(new Set(attempts.map((a) => a.headers["x-nylas-signature"])).size).toBe(3);
    for (const a of attempts) expect((await w.deliver(a)).status).toBe(200);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["triggered", key(g)]]));
  });

  it("the sweep and the webhook raise the same key → one incident, one alert per sink", async () => {
    const g = w.grants[3]!;
    expire(g);
    await sweepGrants(w.deps);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["triggered", key(g)]]));
    // Nylas's notification arrives after the sweep saw the grant invalid.
    expect((await w.deliver(w.build("grant.expired", g))).status).toBe(200);
    await sweepGrants(w.deps);
    const incidents = (await w.incidents()).filter((i) => i.key === key(g));
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.notifications).toBe(1);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["triggered", key(g)]]));
  });
});

describe("webhook and sweep at the same moment", () => {
  it("raise the same key concurrently → one incident, one alert per sink", async () => {
    const g = w.grants[8]!;
    expire(g);
    const [res] = await Promise.all([w.deliver(w.build("grant.expired", g)), sweepGrants(w.deps)]);
    expect(res.status).toBe(200);
    await sweepGrants(w.deps);
    const incidents = (await w.incidents()).filter((i) => i.key === key(g));
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.notifications).toBe(1);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["triggered", key(g)]]));
  });
});

describe("grant.created", () => {
  it("for a grant with an open incident → Nylas confirms it valid → resolved once per sink", async () => {
    const g = w.grants[7]!;
    expire(g);
    expect((await w.deliver(w.build("grant.expired", g))).status).toBe(200);
    w.sim.sinks.clear();
    g.grant_status = "valid";
    w.sim.tenant.nylas.touch();
    const res = await w.deliver(w.build("grant.created", g));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: "accepted", outcome: "resolved" });
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["resolved", key(g)]]));
  });
});

describe("sinks that fail for a while", () => {
  it("5xx, 429 with Retry-After and resets, then recovery → after sweeps every alert delivered exactly once to each sink, in order", async () => {
    const g = w.grants[4]!;
    const h = w.grants[5]!;
    w.sim.faults.add({ service: "sinks", path: /^\/slack\//, times: 5, response: { status: 500 } });
    w.sim.faults.add({
      service: "sinks",
      path: /^\/teams\//,
      times: 4,
      response: { status: 429, headers: { "retry-after": "120" } },
    });
    w.sim.faults.add({
      service: "sinks",
      path: "/pagerduty/v2/enqueue",
      times: 7,
      response: { status: 503 },
    });
    w.sim.faults.add({ service: "sinks", path: /^\/webhook\//, times: 2, response: { reset: true } });

    expire(g);
    expire(h);
    const answers = [
      await w.deliver(w.build("grant.expired", g)),
      await w.deliver(w.build("grant.expired", h)),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect((await pending()).length).toBeGreaterThan(0);

    // g re-authenticates while the sinks are still down: its resolve queues behind its trigger.
    g.grant_status = "valid";
    w.sim.tenant.nylas.touch();
    expect((await w.deliver(w.build("grant.updated", g))).status).toBe(200);

    await sweepUntilDelivered();
    expect(w.sim.faults.active).toEqual([]);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink([
        ["triggered", key(g)],
        ["resolved", key(g)],
        ["triggered", key(h)],
      ]),
    );
    // Per sink, g's resolve never overtook its trigger.
    for (const sink of ["webhook", "slack", "teams", "pagerduty"]) {
      const events = acceptedAlerts(w.sim.sinks.received)
        .filter((a) => a.sink === sink && a.key === key(g))
        .map((a) => a.event);
      expect(events, sink).toEqual(["triggered", "resolved"]);
    }
    // Nothing dead, nothing pending.
    const store = await w.deps.store();
    for await (const item of store.list<DeliveryRecord>("deliveries"))
      expect(item.value.state).toBe("delivered");
  });

  it("a notification whose processing failed (Nylas down) answers 503, stays recorded, and the next sweep finishes it", async () => {
    const g = w.grants[6]!;
    expire(g);
    await w.deliver(w.build("grant.expired", g));
    w.sim.sinks.clear();
    g.grant_status = "valid";
    w.sim.tenant.nylas.touch();
    // Confirming the grant needs Nylas, which is failing.
    w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: `/v3/grants/${g.id}`,
      times: 20,
      response: { status: 500 },
    });
    const updated = w.build("grant.updated", g);
    const res = await w.deliver(updated);
    expect(res.status).toBe(503);
    const store = await w.deps.store();
    expect((await store.get<{ status: string }>("events", updated.notification.id))?.value.status).toBe(
      "received",
    );
    expect((await w.incidents()).find((i) => i.key === key(g))!.status).toBe("firing");

    w.sim.faults.clear();
    w.manualClock!.advance(2 * MINUTE_MS);
    const result = await sweepGrants(w.deps);
    expect(result.redriven).toBe(1);
    expect((await store.get<{ status: string }>("events", updated.notification.id))?.value.status).toBe(
      "processed",
    );
    expect((await w.incidents()).find((i) => i.key === key(g))!.status).toBe("resolved");
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["resolved", key(g)]]));
  });
});
