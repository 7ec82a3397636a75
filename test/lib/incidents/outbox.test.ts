import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, ManualClock } from "../../../lib/clock.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { Outbox, type DeliveryRecord, type OutboxOptions } from "../../../lib/incidents/outbox.js";
import { createPagerDutySink } from "../../../lib/incidents/sinks/pagerduty.js";
import type { Sink } from "../../../lib/incidents/sinks/sink.js";
import { createSlackSink } from "../../../lib/incidents/sinks/slack.js";
import { createTeamsSink } from "../../../lib/incidents/sinks/teams.js";
import { createWebhookSink, verifyWatchdogSignature } from "../../../lib/incidents/sinks/webhook.js";
import { captureLogger, grantSignal, type CapturedLogger } from "./fixtures.js";
import { MemoryStateStore } from "./memory-store.js";
import { SinkServer } from "./sink-server.js";

const ROUTING_KEY = "PdRoutingKey0123456789abcdefABCD";
const WEBHOOK_SECRET = "whsec_super_secret_value_42";
const WEBHOOK_TOKEN = "tok_webhookpathsecret123";
const SLACK_TOKEN = "slackpathsecret1234567";
const TEAMS_SIG = "teamssigsecret12345678";
const PATHS = {
  webhook: `/hook/${WEBHOOK_TOKEN}`,
  slack: `/services/T01/B02/${SLACK_TOKEN}`,
  teams: `/workflows/wf1/triggers/manual/paths/invoke?sig=${TEAMS_SIG}`,
  pagerduty: "/v2/enqueue",
} as const;
const SECRETS = [ROUTING_KEY, WEBHOOK_SECRET, WEBHOOK_TOKEN, SLACK_TOKEN, TEAMS_SIG];

let server: SinkServer;
beforeEach(async () => {
  server = await new SinkServer().start();
  server.behave(PATHS.pagerduty, { okStatus: 202 });
  server.behave(PATHS.teams, { okStatus: 202 });
});
afterEach(async () => {
  await server.close();
});

function sinks(): Sink[] {
  // Constructed directly: loadConfig demands https, the loopback server speaks http.
  return [
    createWebhookSink({ url: server.url(PATHS.webhook), secret: WEBHOOK_SECRET }),
    createSlackSink(server.url(PATHS.slack)),
    createTeamsSink(server.url(PATHS.teams)),
    createPagerDutySink({ routingKey: ROUTING_KEY, eventsUrl: server.url(PATHS.pagerduty) }),
  ];
}

interface World {
  store: MemoryStateStore;
  clock: ManualClock;
  logger: CapturedLogger;
  outbox: Outbox;
  incidents: IncidentManager;
  newOutbox(): Outbox;
}

function world(options: OutboxOptions = {}): World {
  const store = new MemoryStateStore();
  const clock = new ManualClock();
  const logger = captureLogger();
  const newOutbox = () => new Outbox({ store, clock, logger, sinks: sinks(), options });
  const outbox = newOutbox();
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  return { store, clock, logger, outbox, incidents, newOutbox };
}

const pending = (w: World) =>
  w.store.values<DeliveryRecord>("deliveries").filter((d) => d.state === "pending");

/** Runs passes an hour apart until nothing is pending. */
async function drain(w: World, maxPasses = 40): Promise<number> {
  for (let pass = 1; pass <= maxPasses; pass++) {
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    if (pending(w).length === 0) return pass;
    w.clock.advance(HOUR_MS);
  }
  throw new Error("still pending after every pass");
}

function bodies(path: string): string[] {
  return server.accepted(path).map((r) => r.body);
}

function expectNoDuplicates(values: string[]): void {
  expect(new Set(values).size).toBe(values.length);
}

describe("Outbox: sinks failing for a while, then recovering", () => {
  it("delivers every alert to every sink exactly once, nothing lost", async () => {
    const w = world();
    server.behave(PATHS.webhook, { failFirst: 5, failStatus: 500 });
    server.behave(PATHS.slack, { failFirst: 7, failStatus: 429, retryAfter: "2" });
    server.behave(PATHS.teams, { failFirst: 4, failStatus: 502, okStatus: 202 });
    server.behave(PATHS.pagerduty, { failFirst: 6, failStatus: 503, okStatus: 202 });

    await w.incidents.raise(grantSignal("g1"));
    await w.incidents.raise(grantSignal("g2"));
    const first = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(first.failed).toBeGreaterThan(0);
    expect(pending(w).length).toBeGreaterThan(0);

    // More happens while the sinks are down.
    w.clock.advance(HOUR_MS);
    await w.incidents.raise(grantSignal("g3"));
    await w.incidents.resolve("grant.invalid:g1", "valid again");
    await w.incidents.raise(grantSignal("g2", { severity: "critical" }));
    await w.incidents.announce({
      event: "rotation.succeeded",
      idempotencyKey: "rotation:r1",
      severity: "info",
      summary: "Rotated the connector secret",
      details: { app_id: "app-1" },
    });

    await drain(w);

    const records = w.store.values<DeliveryRecord>("deliveries");
    expect(records.every((r) => r.state === "delivered")).toBe(true);
    // 3 triggers + 1 resolve + 1 escalation repeat (+ 1 announcement for webhook/slack/teams).
    expect(bodies(PATHS.webhook)).toHaveLength(6);
    expect(bodies(PATHS.slack)).toHaveLength(6);
    expect(bodies(PATHS.teams)).toHaveLength(6);
    expect(bodies(PATHS.pagerduty)).toHaveLength(5);
    for (const path of Object.values(PATHS)) expectNoDuplicates(bodies(path));

    // The webhook's delivery ids are exactly the stored records', each once.
    const ids = server.accepted(PATHS.webhook).map((r) => r.headers["x-watchdog-delivery"] as string);
    expectNoDuplicates(ids);
    expect(ids.sort()).toEqual(
      records
        .filter((r) => r.sink === "webhook")
        .map((r) => r.id)
        .sort(),
    );
    for (const r of server.accepted(PATHS.webhook)) {
      expect(
        verifyWatchdogSignature(r.body, r.headers["x-watchdog-signature"] as string, WEBHOOK_SECRET),
      ).toBe(true);
    }

    // Per incident, in order: PagerDuty never sees a resolve before its trigger.
    const pd = bodies(PATHS.pagerduty).map(
      (b) => JSON.parse(b) as { event_action: string; dedup_key: string },
    );
    const g1 = pd.filter((e) => e.dedup_key === "grant.invalid:g1").map((e) => e.event_action);
    expect(g1).toEqual(["trigger", "resolve"]);
  });

  it("keeps one incident's notifications in order when the first is refused for a while", async () => {
    const w = world();
    server.behave(PATHS.pagerduty, { failFirst: 3, failStatus: 500, okStatus: 202 });
    await w.incidents.raise(grantSignal("g1"));
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    await w.incidents.resolve("grant.invalid:g1", "fixed");
    // The trigger is backing off: the resolve must wait behind it, not overtake it.
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(server.accepted(PATHS.pagerduty)).toHaveLength(0);
    await drain(w);
    const actions = bodies(PATHS.pagerduty).map(
      (b) => (JSON.parse(b) as { event_action: string }).event_action,
    );
    expect(actions).toEqual(["trigger", "resolve"]);
  });
});

describe("Outbox: independence and the deadline", () => {
  it("a hanging sink delays nobody, and deliverPending returns at the deadline", async () => {
    const w = world();
    server.behave(PATHS.teams, { hang: true });
    await w.incidents.raise(grantSignal("g1"));
    await w.incidents.raise(grantSignal("g2"));

    const started = performance.now();
    const report = await w.outbox.deliverPending({ deadlineMs: 500 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    // Far below the 8 s per-attempt timeout: it stopped at the deadline instead of waiting on the hung sink.
    expect(elapsed).toBeLessThan(5_000);
    expect(report.deadlineReached).toBe(true);
    expect(report.delivered).toBe(6);
    expect(report.sinks.teams?.delivered).toBe(0);
    expect(bodies(PATHS.webhook)).toHaveLength(2);
    expect(bodies(PATHS.slack)).toHaveLength(2);
    expect(bodies(PATHS.pagerduty)).toHaveLength(2);

    // Teams' records stay pending. The one that was out when the deadline came may have been
    // posted (Teams would post it twice), so it is unleased but held for the in-doubt window; the
    // one never sent still holds the claim it was created with, and this process, which holds
    // that claim, takes it at the next pass at once.
    const teams = pending(w);
    expect(teams.map((r) => r.sink)).toEqual(["teams", "teams"]);
    const now = w.clock.now().getTime();
    const [held, untried] = [...teams].sort((x, y) => (x.attempts > y.attempts ? -1 : 1));
    expect(held).toMatchObject({ attempts: 1, leaseUntil: null });
    expect(Date.parse(held!.nextAttemptAt) - now).toBe(120_000);
    expect(untried).toMatchObject({ attempts: 0 });
    expect(Date.parse(untried!.nextAttemptAt)).toBeLessThanOrEqual(now);
    expect(Date.parse(untried!.leaseUntil!)).toBeGreaterThan(now);

    server.behave(PATHS.teams, { okStatus: 202 });
    const next = await w.outbox.deliverPending({ deadlineMs: 5_000 });
    expect(next.delivered).toBe(1);
    w.clock.advance(120_000);
    const after = await w.outbox.deliverPending({ deadlineMs: 5_000 });
    expect(after.delivered).toBe(1);
    expect(bodies(PATHS.teams)).toHaveLength(2);
    // Nobody else was sent anything again.
    expect(bodies(PATHS.webhook)).toHaveLength(2);
    expect(bodies(PATHS.pagerduty)).toHaveLength(2);
  });

  it("two concurrent drivers never deliver the same record twice", async () => {
    const w = world();
    for (let i = 0; i < 10; i++) await w.incidents.raise(grantSignal(`g${i}`));
    const other = w.newOutbox();
    const [a, b] = await Promise.all([
      w.outbox.deliverPending({ deadlineMs: 10_000 }),
      other.deliverPending({ deadlineMs: 10_000 }),
    ]);
    expect(a.delivered + b.delivered).toBe(40);
    for (const path of Object.values(PATHS)) {
      expect(server.requests.filter((r) => r.path === path)).toHaveLength(10);
      expectNoDuplicates(bodies(path));
    }
    expect(pending(w)).toHaveLength(0);
  });
});

describe("Outbox: failures", () => {
  it("a message PagerDuty refuses (400) is not retried, and its errors are logged", async () => {
    const w = world();
    server.behave(PATHS.pagerduty, {
      failFirst: 100,
      failStatus: 400,
      failBody: JSON.stringify({
        status: "invalid event",
        message: "Event object is invalid",
        errors: ["'payload.summary' is missing"],
      }),
    });
    await w.incidents.raise(grantSignal("g1"));
    const report = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(report.gaveUp).toBe(1);
    expect(report.delivered).toBe(3);
    w.clock.advance(DAY_MS);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(server.requests.filter((r) => r.path === PATHS.pagerduty)).toHaveLength(1);
    const dead = w.store.values<DeliveryRecord>("deliveries").find((r) => r.sink === "pagerduty")!;
    expect(dead.state).toBe("dead");
    const error = w.logger.lines.find((l) => l.startsWith("error"))!;
    expect(error).toContain("'payload.summary' is missing");
    expect(error).toContain("pagerduty");
  });

  it("a record still failing after 48 h is given up with an error log; back-off grows meanwhile", async () => {
    const w = world();
    server.behave(PATHS.slack, { failFirst: 1_000_000, failStatus: 500 });
    await w.incidents.raise(grantSignal("g1"));
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    let record = w.store.values<DeliveryRecord>("deliveries").find((r) => r.sink === "slack")!;
    expect(record).toMatchObject({ state: "pending", attempts: 1 });
    expect(record.lastError).toMatch(/slack: POST http:\/\/127\.0\.0\.1:\d+\/… answered 500/);
    const firstWait = Date.parse(record.nextAttemptAt) - w.clock.now().getTime();
    expect(firstWait).toBeGreaterThan(0);

    // Not due yet: not attempted.
    const before = server.requests.length;
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(server.requests.length).toBe(before);

    w.clock.advance(24 * HOUR_MS);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    record = w.store.values<DeliveryRecord>("deliveries").find((r) => r.sink === "slack")!;
    expect(record).toMatchObject({ state: "pending", attempts: 2 });
    expect(Date.parse(record.nextAttemptAt) - w.clock.now().getTime()).toBeGreaterThan(firstWait);

    w.clock.advance(25 * HOUR_MS);
    const report = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(report.gaveUp).toBe(1);
    record = w.store.values<DeliveryRecord>("deliveries").find((r) => r.sink === "slack")!;
    expect(record.state).toBe("dead");
    expect(
      w.logger.lines.some(
        (l) => l.startsWith("error") && l.includes("Alert given up") && l.includes("slack"),
      ),
    ).toBe(true);
  });

  it("Retry-After beyond the in-pass wait becomes the next attempt time", async () => {
    const w = world();
    server.behave(PATHS.webhook, { failFirst: 100, failStatus: 429, retryAfter: "7200" });
    await w.incidents.raise(grantSignal("g1"));
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    const record = w.store.values<DeliveryRecord>("deliveries").find((r) => r.sink === "webhook")!;
    expect(Date.parse(record.nextAttemptAt) - w.clock.now().getTime()).toBeGreaterThanOrEqual(7_190_000);
  });
});

describe("Outbox: retention and idempotency", () => {
  it("an announcement is sent once, even when the pass runs again; settled records are purged later", async () => {
    const w = world();
    const announce = () =>
      w.incidents.announce({
        event: "grant.reauth_requested",
        idempotencyKey: "reauth:r1:g1",
        severity: "info",
        summary: "Please re-authenticate alice@contoso.com",
        details: {},
        grant: { grantId: "g1", email: "alice@contoso.com", deadline: "2027-01-01T00:00:00.000Z" },
      });
    expect(await announce()).toBe(true);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(await announce()).toBe(false);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(bodies(PATHS.webhook)).toHaveLength(1);
    expect(bodies(PATHS.slack)).toHaveLength(0);
    expect(JSON.parse(bodies(PATHS.webhook)[0]!)).toMatchObject({
      event: "grant.reauth_requested",
      grant: { grant_id: "g1", email: "alice@contoso.com" },
    });

    w.clock.advance(31 * DAY_MS);
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(w.store.values("deliveries")).toHaveLength(0);
  });

  it("records for a sink no longer configured wait, then are given up", async () => {
    const w = world();
    await w.incidents.raise(grantSignal("g1"));
    const webhookOnly = new Outbox({
      store: w.store,
      clock: w.clock,
      logger: w.logger,
      sinks: [createWebhookSink({ url: server.url(PATHS.webhook), secret: WEBHOOK_SECRET })],
    });
    // The process that created the records (claimed) stopped; its claims lapse after the lease.
    w.clock.advance(120_000);
    const report = await webhookOnly.deliverPending({ deadlineMs: 10_000 });
    expect(report).toMatchObject({ delivered: 1, waiting: 3 });
    w.clock.advance(49 * HOUR_MS);
    expect((await webhookOnly.deliverPending({ deadlineMs: 10_000 })).gaveUp).toBe(3);
  });
});

describe("Outbox: secrets", () => {
  it("no routing key, signing secret or URL token reaches a log line or stored error", async () => {
    const w = world({ attemptTimeoutMs: 300 });
    server.behave(PATHS.webhook, {
      failFirst: 2,
      failStatus: 500,
      failBody: `{"echo":"${WEBHOOK_SECRET} ${WEBHOOK_TOKEN}"}`,
    });
    server.behave(PATHS.slack, { failFirst: 2, failStatus: 403, failBody: `invalid_token ${SLACK_TOKEN}` });
    server.behave(PATHS.teams, { hang: true });
    server.behave(PATHS.pagerduty, {
      failFirst: 1,
      failStatus: 400,
      failBody: JSON.stringify({
        message: "Event object is invalid",
        errors: [`routing_key ${ROUTING_KEY} is unknown`],
      }),
    });
    await w.incidents.raise(grantSignal("g1"));
    await w.incidents.raise(grantSignal("g2"));
    await w.outbox.deliverPending({ deadlineMs: 2_000 });
    server.behave(PATHS.teams, { failFirst: 1, failStatus: 500, okStatus: 202 });
    for (let i = 0; i < 4; i++) {
      w.clock.advance(HOUR_MS);
      await w.outbox.deliverPending({ deadlineMs: 5_000 });
    }

    expect(w.logger.lines.length).toBeGreaterThan(3);
    expect(w.logger.lines.some((l) => l.includes("PagerDuty said") && l.includes("[REDACTED]"))).toBe(true);
    const stored = JSON.stringify(w.store.values("deliveries").map((r) => (r as DeliveryRecord).lastError));
    for (const secret of SECRETS) {
      for (const line of w.logger.lines) expect(line).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    // Sinks are named, so the logs are still useful.
    for (const name of ["webhook", "slack", "teams", "pagerduty"]) {
      expect(w.logger.lines.some((l) => l.includes(name))).toBe(true);
    }
  });
});
