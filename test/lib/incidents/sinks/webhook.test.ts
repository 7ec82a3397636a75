import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ManualClock } from "../../../../lib/clock.js";
import type { AnnouncementNotification, Notification } from "../../../../lib/incidents/incident.js";
import { sendToSink } from "../../../../lib/incidents/sinks/sink.js";
import {
  ALERT_SCHEMA_V1,
  createWebhookSink,
  formatWebhookBody,
  signWatchdogBody,
  verifyWatchdogSignature,
} from "../../../../lib/incidents/sinks/webhook.js";
import { grantSignal, hugeIncident, incidentOf, notificationOf } from "../fixtures.js";
import { SinkServer } from "../sink-server.js";

const schemaJson = JSON.parse(
  readFileSync(new URL("../../../../lib/incidents/alert-schema.v1.json", import.meta.url), "utf8"),
) as Record<string, unknown>;
const schema = z.fromJSONSchema(schemaJson);

const context = {
  deliveryId: "0123456789abcdef0123456789abcdef",
  sentAt: new Date("2026-11-23T12:00:05.000Z"),
};

const reauth: AnnouncementNotification = {
  type: "announcement",
  id: "announce:reauth:rot-1:g1",
  event: "grant.reauth_requested",
  createdAt: "2026-11-23T12:00:00.000Z",
  announcement: {
    event: "grant.reauth_requested",
    idempotencyKey: "reauth:rot-1:g1",
    severity: "info",
    summary: "Please re-authenticate alice@contoso.com before 2027-01-01",
    details: { rotation_id: "rot-1" },
    grant: {
      grantId: "g1",
      email: "alice@contoso.com",
      deadline: "2027-01-01T00:00:00.000Z",
      reauthUrl: "https://api.us.nylas.com/v3/connect/auth?client_id=c&login_hint=alice%40contoso.com",
    },
  },
  sinks: ["webhook"],
};

const rotated: AnnouncementNotification = {
  type: "announcement",
  id: "announce:rotation:rot-1",
  event: "rotation.succeeded",
  createdAt: "2026-11-23T12:00:00.000Z",
  announcement: {
    event: "rotation.succeeded",
    idempotencyKey: "rotation:rot-1",
    severity: "info",
    summary: "Rotated the Nylas connector's client secret",
    details: { app_id: "11111111-2222-3333-4444-555555555555", expires: "2027-05-22" },
  },
  sinks: ["webhook", "slack", "teams"],
};

const incident = incidentOf(grantSignal());
const samples: [string, Notification][] = [
  ["triggered", notificationOf(incident)],
  [
    "repeated",
    notificationOf({ ...incident, severity: "critical", notifications: 2 }, "incident.repeated", 2),
  ],
  [
    "resolved",
    notificationOf(
      {
        ...incident,
        status: "resolved",
        resolvedAt: "2026-11-23T13:00:00.000Z",
        resolveNote: "valid again",
        notifications: 3,
      },
      "incident.resolved",
      3,
    ),
  ],
  ["huge", notificationOf(hugeIncident())],
  ["reauth", reauth],
  ["rotation", rotated],
];

describe("generic webhook body (secret-watchdog.alert/v1)", () => {
  it.each(samples)("%s validates against alert-schema.v1.json", (_name, notification) => {
    const body = JSON.parse(JSON.stringify(formatWebhookBody(notification, context)));
    const result = schema.safeParse(body);
    expect(result.error).toBeUndefined();
    expect(body.schema).toBe(ALERT_SCHEMA_V1);
    expect(body.delivery_id).toBe(context.deliveryId);
    expect(body.sent_at).toBe("2026-11-23T12:00:05.000Z");
  });

  it("carries the incident in snake_case, and the grant for re-authentication requests", () => {
    const body = formatWebhookBody(samples[2]![1], context);
    expect(body).toMatchObject({
      event: "incident.resolved",
      incident: {
        key: incident.key,
        status: "resolved",
        resolved_at: "2026-11-23T13:00:00.000Z",
        resolve_note: "valid again",
      },
    });
    expect(formatWebhookBody(reauth, context)).toMatchObject({
      event: "grant.reauth_requested",
      grant: { grant_id: "g1", email: "alice@contoso.com", deadline: "2027-01-01T00:00:00.000Z" },
    });
  });

  it("the schema really rejects malformed bodies", () => {
    const good = JSON.parse(JSON.stringify(formatWebhookBody(samples[0]![1], context)));
    expect(schema.safeParse({ ...good, schema: "secret-watchdog.alert/v2" }).success).toBe(false);
    expect(schema.safeParse({ ...good, extra: 1 }).success).toBe(false);
    const { incident: _incident, ...noIncident } = good;
    expect(schema.safeParse(noIncident).success).toBe(false);
    expect(schema.safeParse({ ...good, incident: { ...good.incident, severity: "fatal" } }).success).toBe(
      false,
    );
    const reauthBody = JSON.parse(JSON.stringify(formatWebhookBody(reauth, context)));
    const { grant: _grant, ...noGrant } = reauthBody;
    expect(schema.safeParse(noGrant).success).toBe(false);
    expect(schema.safeParse({ ...reauthBody, event: "incident.triggered" }).success).toBe(false);
    const rotationBody = JSON.parse(JSON.stringify(formatWebhookBody(rotated, context)));
    expect(schema.safeParse(rotationBody).success).toBe(true);
    expect(schema.safeParse({ ...rotationBody, event: "incident.triggered" }).success).toBe(false);
    expect(schema.safeParse({ ...rotationBody, event: "grant.reauth_requested" }).success).toBe(false);
    expect(schema.safeParse({ ...rotationBody, sent_at: "yesterday" }).success).toBe(false);
  });
});

describe("webhook signature", () => {
  it("verifies with the secret, fails with another or a changed body (constant-time compare)", () => {
    const body = '{"schema":"secret-watchdog.alert/v1"}';
    const header = signWatchdogBody(body, "s3cret-value");
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWatchdogSignature(body, header, "s3cret-value")).toBe(true);
    expect(verifyWatchdogSignature(Buffer.from(body), header, "s3cret-value")).toBe(true);
    expect(verifyWatchdogSignature(body, header, "other-secret")).toBe(false);
    expect(verifyWatchdogSignature(`${body} `, header, "s3cret-value")).toBe(false);
    expect(verifyWatchdogSignature(body, undefined, "s3cret-value")).toBe(false);
    expect(verifyWatchdogSignature(body, "sha256=abc", "s3cret-value")).toBe(false);
    expect(verifyWatchdogSignature(body, header, "")).toBe(false);
  });
});

describe("webhook sink over HTTP", () => {
  const server = new SinkServer();
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.close();
  });

  it("sends the delivery id, timestamp and a signature over the raw body", async () => {
    const sink = createWebhookSink({ url: server.url("/hooks/abc"), secret: "whsec_0123456789" });
    await sendToSink(sink, samples[0]![1], context, { clock: new ManualClock() });
    const [request] = server.accepted("/hooks/abc");
    expect(request).toBeDefined();
    expect(request!.headers["x-watchdog-delivery"]).toBe(context.deliveryId);
    expect(request!.headers["x-watchdog-timestamp"]).toBe(
      String(Date.parse("2026-11-23T12:00:05.000Z") / 1000),
    );
    expect(request!.headers["x-watchdog-event"]).toBe("incident.triggered");
    expect(request!.headers["content-type"]).toMatch(/^application\/json/);
    const signature = request!.headers["x-watchdog-signature"] as string;
    expect(verifyWatchdogSignature(request!.body, signature, "whsec_0123456789")).toBe(true);
    expect(verifyWatchdogSignature(request!.body, signature, "whsec_other")).toBe(false);
    expect(schema.safeParse(JSON.parse(request!.body)).success).toBe(true);
  });

  it("sends no signature header without a secret", async () => {
    const sink = createWebhookSink({ url: server.url("/hooks/unsigned") });
    await sendToSink(sink, rotated, context, { clock: new ManualClock() });
    const [request] = server.accepted("/hooks/unsigned");
    expect(request!.headers["x-watchdog-signature"]).toBeUndefined();
    expect(request!.headers["x-watchdog-delivery"]).toBe(context.deliveryId);
  });
});
