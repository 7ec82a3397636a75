import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../../../lib/clock.js";
import { HttpError } from "../../../../lib/errors.js";
import type { Notification } from "../../../../lib/incidents/incident.js";
import {
  createPagerDutySink,
  explainPagerDutyFailure,
  formatPagerDutyEvent,
  pagerDutyDedupKey,
  pagerDutySeverity,
  type PagerDutyTrigger,
} from "../../../../lib/incidents/sinks/pagerduty.js";
import { sendToSink } from "../../../../lib/incidents/sinks/sink.js";
import { grantSignal, incidentOf, notificationOf } from "../fixtures.js";
import { SinkServer } from "../sink-server.js";

const ROUTING_KEY = "R0utingKey0123456789abcdefABCDEF";
const incident = incidentOf(grantSignal(undefined, { severity: "critical" }));
const resolved = { ...incident, status: "resolved" as const, resolvedAt: "2026-11-23T13:00:00.000Z" };

describe("PagerDuty Events API v2 body", () => {
  it("triggers with a full payload and resolves with the same dedup_key", () => {
    const trigger = formatPagerDutyEvent(notificationOf(incident), ROUTING_KEY) as PagerDutyTrigger;
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: incident.key,
      client: "secret-watchdog",
      payload: {
        summary: incident.summary,
        source: "secret-watchdog",
        severity: "critical",
        timestamp: incident.lastChanged,
        component: "nylas-grant",
        group: "nylas-microsoft-connector",
        class: "grant.invalid",
        custom_details: {
          email: "alice@contoso.com",
          incident_key: incident.key,
          remediation: incident.remediation,
        },
      },
      links: [{ href: incident.links[0]!.url, text: "Re-authenticate" }],
    });
    const resolve = formatPagerDutyEvent(notificationOf(resolved, "incident.resolved", 2), ROUTING_KEY);
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: incident.key });
  });

  it("re-sends a trigger with the same dedup_key for a repeat", () => {
    const repeat = formatPagerDutyEvent(notificationOf(incident, "incident.repeated", 2), ROUTING_KEY);
    expect(repeat).toMatchObject({ event_action: "trigger", dedup_key: incident.key });
  });

  it("hashes keys over 255 characters, the same way for trigger and resolve", () => {
    const key = `secret.expiring:${"a".repeat(300)}:k1`;
    const other = `secret.expiring:${"a".repeat(300)}:k2`;
    const long = { ...incident, key };
    const trigger = formatPagerDutyEvent(notificationOf(long), ROUTING_KEY);
    const resolve = formatPagerDutyEvent(
      notificationOf({ ...long, status: "resolved" }, "incident.resolved", 2),
      ROUTING_KEY,
    );
    expect(trigger.dedup_key.length).toBeLessThanOrEqual(255);
    expect(trigger.dedup_key).toBe(resolve.dedup_key);
    expect(trigger.dedup_key).toBe(pagerDutyDedupKey(key));
    expect(trigger.dedup_key).toMatch(/^secret\.expiring:a+~[0-9a-f]{64}$/);
    // Same prefix, different key: a different dedup_key.
    expect(pagerDutyDedupKey(other)).not.toBe(trigger.dedup_key);
    expect(pagerDutyDedupKey("short")).toBe("short");
    expect(pagerDutyDedupKey("x".repeat(255))).toBe("x".repeat(255));
  });

  it("maps severities and caps the summary at 1024 characters", () => {
    expect(pagerDutySeverity("critical")).toBe("critical");
    expect(pagerDutySeverity("warning")).toBe("warning");
    expect(pagerDutySeverity("info")).toBe("info");
    const long = formatPagerDutyEvent(
      notificationOf({ ...incident, summary: "s".repeat(5000) }),
      ROUTING_KEY,
    );
    expect((long as PagerDutyTrigger).payload.summary.length).toBe(1024);
  });

  it("never pages for announcements", () => {
    const announcement: Notification = {
      type: "announcement",
      id: "announce:x",
      event: "rotation.succeeded",
      createdAt: "2026-11-23T12:00:00.000Z",
      announcement: {
        event: "rotation.succeeded",
        idempotencyKey: "x",
        severity: "info",
        summary: "s",
        details: {},
      },
      sinks: ["webhook"],
    };
    expect(() => formatPagerDutyEvent(announcement, ROUTING_KEY)).toThrow(TypeError);
  });

  it("explains a refused event from its errors array", () => {
    const error = new HttpError("pagerduty: POST https://events.pagerduty.com/… answered 400.", {
      service: "pagerduty",
      statusCode: 400,
      body: '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'routing_key\' is incorrect"]}',
    });
    expect(explainPagerDutyFailure(error)).toBe(
      "PagerDuty said: Event object is invalid; Length of 'routing_key' is incorrect",
    );
    expect(
      explainPagerDutyFailure(new HttpError("x", { service: "pagerduty", statusCode: 502, body: "<html>" })),
    ).toBeUndefined();
  });
});

describe("PagerDuty sink over HTTP", () => {
  const server = new SinkServer();
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.close();
  });

  it("202 is success", async () => {
    server.behave("/v2/enqueue", { okStatus: 202 });
    const sink = createPagerDutySink({ routingKey: ROUTING_KEY, eventsUrl: server.url("/v2/enqueue") });
    const response = await sendToSink(
      sink,
      notificationOf(incident),
      { deliveryId: "d", sentAt: new Date() },
      {
        clock: new ManualClock(),
      },
    );
    expect(response.status).toBe(202);
    expect(JSON.parse(server.accepted("/v2/enqueue")[0]!.body)).toMatchObject({ dedup_key: incident.key });
  });

  it("429 is retried after Retry-After", async () => {
    server.behave("/v2/throttled", { failFirst: 2, failStatus: 429, retryAfter: "1", okStatus: 202 });
    const clock = new ManualClock();
    const before = clock.now().getTime();
    const sink = createPagerDutySink({ routingKey: ROUTING_KEY, eventsUrl: server.url("/v2/throttled") });
    await sendToSink(sink, notificationOf(incident), { deliveryId: "d", sentAt: new Date() }, { clock });
    expect(server.requests.filter((r) => r.path === "/v2/throttled").map((r) => r.status)).toEqual([
      429, 429, 202,
    ]);
    // Waited as asked (the manual clock moves when slept on).
    expect(clock.now().getTime() - before).toBeGreaterThanOrEqual(2000);
  });

  it("400 is not retried", async () => {
    server.behave("/v2/bad", { failFirst: 10, failStatus: 400, failBody: '{"errors":["bad"]}' });
    const sink = createPagerDutySink({ routingKey: ROUTING_KEY, eventsUrl: server.url("/v2/bad") });
    const error = await sendToSink(
      sink,
      notificationOf(incident),
      { deliveryId: "d", sentAt: new Date() },
      {
        clock: new ManualClock(),
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(400);
    expect(server.requests.filter((r) => r.path === "/v2/bad")).toHaveLength(1);
    expect((error as HttpError).message).not.toContain(ROUTING_KEY);
  });
});
