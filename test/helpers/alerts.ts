/**
 * Reading what the simulator's alert sinks received: which incident, which
 * event, accepted or not — and checking the bodies against the formats the
 * real services accept (Slack Block Kit, Teams Adaptive Card, PagerDuty Events
 * API v2, the generic webhook's v1 schema).
 */
import { expect } from "vitest";
import type { SinkReceipt } from "../../lib/sim/index.js";
import { verifyWatchdogSignature } from "../../lib/incidents/sinks/webhook.js";

/** Parsed sink bodies: checked field by field below, so typed loosely on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export type AlertEvent = "triggered" | "repeated" | "resolved";

export interface ReceivedAlert {
  sink: SinkReceipt["sink"];
  event: AlertEvent;
  /** The incident key ("grant.invalid:<id>"). */
  key: string;
  receipt: SinkReceipt;
}

/** Chat messages name the incident key in their context line. */
const KEY = /secret-watchdog · ([^\s"\\]+)/;

function chatEvent(title: string): AlertEvent {
  if (title.includes("Resolved: ")) return "resolved";
  if (title.includes("Still open: ")) return "repeated";
  return "triggered";
}

/**
 * Every incident alert a sink accepted (2xx), decoded, whose key starts with
 * `prefix` (default: grant incidents only; the watch pass raises others).
 */
export function acceptedAlerts(received: readonly SinkReceipt[], prefix = "grant.invalid:"): ReceivedAlert[] {
  const out: ReceivedAlert[] = [];
  for (const receipt of received) {
    if (receipt.status < 200 || receipt.status >= 300) continue;
    const body = JSON.parse(receipt.body);
    if (receipt.sink === "webhook" && body.incident === undefined) continue; // an announcement
    let event: AlertEvent;
    let key: string;
    switch (receipt.sink) {
      case "webhook":
        event = String(body.event).replace("incident.", "") as AlertEvent;
        key = body.incident.key;
        break;
      case "pagerduty":
        // A repeat is a second trigger with the same dedup_key.
        event = body.event_action === "resolve" ? "resolved" : "triggered";
        if (body.event_action === "trigger" && body.payload.custom_details.event === "incident.repeated")
          event = "repeated";
        key = body.dedup_key;
        break;
      case "slack":
        event = chatEvent(body.blocks[0].text.text);
        key = KEY.exec(receipt.body)?.[1] ?? "";
        break;
      case "teams":
        event = chatEvent(body.attachments[0].content.body[0].text);
        key = KEY.exec(receipt.body)?.[1] ?? "";
        break;
    }
    if (key.startsWith(prefix)) out.push({ sink: receipt.sink, event, key, receipt });
  }
  return out;
}

/** "<sink> <event> <key>" → how many times it was accepted. */
export function tally(alerts: readonly ReceivedAlert[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of alerts) {
    const name = `${a.sink} ${a.event} ${a.key}`;
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

/** The tally of exactly one alert per sink for each (event, key). */
export function oncePerSink(pairs: [AlertEvent, string][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sink of ["webhook", "slack", "teams", "pagerduty"])
    for (const [event, key] of pairs) out[`${sink} ${event} ${key}`] = 1;
  return out;
}

const SLACK_BLOCKS = new Set(["header", "section", "actions", "context", "divider"]);

/** Block Kit's rules for the blocks used (https://api.slack.com/reference/block-kit/blocks). */
export function expectSlackBlockKit(raw: string): void {
  const m = JSON.parse(raw);
  expect(typeof m.text).toBe("string");
  expect(m.text.length).toBeGreaterThan(0);
  expect(Array.isArray(m.blocks)).toBe(true);
  expect(m.blocks.length).toBeGreaterThan(0);
  expect(m.blocks.length).toBeLessThanOrEqual(50);
  for (const block of m.blocks as Json[]) {
    expect(SLACK_BLOCKS.has(block.type)).toBe(true);
    if (block.type === "header") {
      expect(block.text.type).toBe("plain_text");
      expect(block.text.text.length).toBeGreaterThan(0);
      expect(block.text.text.length).toBeLessThanOrEqual(150);
    } else if (block.type === "section") {
      expect(block.text !== undefined || (block.fields?.length ?? 0) > 0).toBe(true);
      if (block.text) {
        expect(["mrkdwn", "plain_text"]).toContain(block.text.type);
        expect(block.text.text.length).toBeLessThanOrEqual(3000);
      }
      for (const f of (block.fields ?? []) as Json[]) {
        expect(["mrkdwn", "plain_text"]).toContain(f.type);
        expect(f.text.length).toBeLessThanOrEqual(2000);
      }
      expect((block.fields ?? []).length).toBeLessThanOrEqual(10);
    } else if (block.type === "actions") {
      expect(block.elements.length).toBeGreaterThan(0);
      expect(block.elements.length).toBeLessThanOrEqual(25);
      const ids = new Set((block.elements as { action_id: string }[]).map((e) => e.action_id));
      expect(ids.size).toBe(block.elements.length);
      for (const e of block.elements as Json[]) {
        expect(e.type).toBe("button");
        expect(e.text.type).toBe("plain_text");
        expect(e.text.text.length).toBeLessThanOrEqual(75);
        expect(e.url.length).toBeLessThanOrEqual(3000);
        expect(new URL(e.url).protocol).toMatch(/^https?:$/);
      }
    } else if (block.type === "context") {
      expect(block.elements.length).toBeGreaterThan(0);
      expect(block.elements.length).toBeLessThanOrEqual(10);
      for (const e of block.elements as Json[]) expect(["mrkdwn", "plain_text"]).toContain(e.type);
    }
  }
}

const CARD_ELEMENTS = new Set(["TextBlock", "FactSet", "Container", "ColumnSet", "Image", "RichTextBlock"]);

/**
 * A Teams Workflows message: one Adaptive Card attachment, schema/version set,
 * known element and action types with their required fields, under 28 KB
 * (https://adaptivecards.io/explorer/, learn.microsoft.com Teams message limits).
 */
export function expectAdaptiveCard(raw: string): void {
  expect(Buffer.byteLength(raw)).toBeLessThan(28 * 1024);
  const m = JSON.parse(raw);
  expect(m.type).toBe("message");
  expect(m.attachments).toHaveLength(1);
  const a = m.attachments[0];
  expect(a.contentType).toBe("application/vnd.microsoft.card.adaptive");
  const card = a.content;
  expect(card.type).toBe("AdaptiveCard");
  expect(card.$schema).toBe("http://adaptivecards.io/schemas/adaptive-card.json");
  expect(card.version).toMatch(/^1\.[0-5]$/);
  expect(Array.isArray(card.body)).toBe(true);
  expect(card.body.length).toBeGreaterThan(0);
  for (const el of card.body as Json[]) {
    expect(CARD_ELEMENTS.has(el.type)).toBe(true);
    if (el.type === "TextBlock") {
      expect(typeof el.text).toBe("string");
      expect(el.text.length).toBeGreaterThan(0);
    }
    if (el.type === "FactSet") {
      expect(el.facts.length).toBeGreaterThan(0);
      for (const f of el.facts as Json[]) {
        expect(typeof f.title).toBe("string");
        expect(typeof f.value).toBe("string");
      }
    }
  }
  for (const action of (card.actions ?? []) as Json[]) {
    expect(action.type).toBe("Action.OpenUrl");
    expect(typeof action.title).toBe("string");
    expect(new URL(action.url).protocol).toMatch(/^https?:$/);
  }
}

/** A generic-webhook delivery: the v1 schema and a valid X-Watchdog-Signature over the raw body. */
export function expectSignedWebhook(receipt: SinkReceipt, secret: string): Json {
  expect(verifyWatchdogSignature(receipt.body, receipt.headers["x-watchdog-signature"], secret)).toBe(true);
  const body = JSON.parse(receipt.body);
  expect(body.schema).toBe("secret-watchdog.alert/v1");
  expect(receipt.headers["x-watchdog-delivery"]).toBe(body.delivery_id);
  return body;
}
