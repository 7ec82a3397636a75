import { describe, expect, it } from "vitest";
import type { Notification } from "../../../../lib/incidents/incident.js";
import {
  createSlackSink,
  escapeAndTruncate,
  escapeMrkdwn,
  formatSlackMessage,
  SLACK_LIMITS,
  type SlackMessage,
} from "../../../../lib/incidents/sinks/slack.js";
import { grantSignal, hugeIncident, incidentOf, notificationOf } from "../fixtures.js";

const BLOCK_TYPES = new Set(["header", "section", "actions", "context", "divider"]);

/** Block Kit's rules for the blocks we use: https://api.slack.com/reference/block-kit/blocks */
function assertValidBlockKit(message: SlackMessage): void {
  expect(typeof message.text).toBe("string");
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const block of message.blocks) {
    expect(BLOCK_TYPES.has(block.type)).toBe(true);
    switch (block.type) {
      case "header":
        expect(block.text.type).toBe("plain_text");
        expect(block.text.text.length).toBeGreaterThan(0);
        expect(block.text.text.length).toBeLessThanOrEqual(150);
        break;
      case "section":
        expect(block.text !== undefined || (block.fields?.length ?? 0) > 0).toBe(true);
        if (block.text) {
          expect(block.text.type).toBe("mrkdwn");
          expect(block.text.text.length).toBeLessThanOrEqual(3000);
          assertEscaped(block.text.text);
        }
        if (block.fields) {
          expect(block.fields.length).toBeLessThanOrEqual(10);
          for (const f of block.fields) {
            expect(f.text.length).toBeLessThanOrEqual(2000);
            assertEscaped(f.text);
          }
        }
        break;
      case "actions": {
        expect(block.elements.length).toBeGreaterThan(0);
        expect(block.elements.length).toBeLessThanOrEqual(25);
        const ids = new Set(block.elements.map((e) => e.action_id));
        expect(ids.size).toBe(block.elements.length);
        for (const e of block.elements) {
          expect(e.type).toBe("button");
          expect(e.text.type).toBe("plain_text");
          expect(e.text.text.length).toBeLessThanOrEqual(75);
          expect(e.url.length).toBeLessThanOrEqual(3000);
          expect(() => new URL(e.url)).not.toThrow();
        }
        break;
      }
      case "context":
        expect(block.elements.length).toBeGreaterThan(0);
        expect(block.elements.length).toBeLessThanOrEqual(10);
        for (const e of block.elements) assertEscaped(e.text);
        break;
    }
  }
}

/** No raw < or >, and every & starts an entity. */
function assertEscaped(text: string): void {
  expect(text).not.toMatch(/[<>]/);
  expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
}

const incident = incidentOf(
  grantSignal(undefined, {
    summary: "Grant for <alice> & bob is invalid",
    details: { grant_id: "g1", email: "alice@contoso.com", note: "a<b & c>d", days_left: 3, admin: null },
  }),
);

describe("Slack Block Kit message", () => {
  it("lays out header, fields, remediation, link buttons and context", () => {
    const message = formatSlackMessage(notificationOf(incident));
    assertValidBlockKit(message);
    expect(message.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "actions", "context"]);
    const [header, fields, remediation, actions] = message.blocks;
    expect(header).toMatchObject({ type: "header", text: { text: "🟠 Grant for <alice> & bob is invalid" } });
    expect(fields?.type === "section" && fields.fields?.map((f) => f.text)).toContain(
      "*Note*\na&lt;b &amp; c&gt;d",
    );
    expect(fields?.type === "section" && fields.fields?.map((f) => f.text)).toContain("*Admin*\n—");
    expect(remediation?.type === "section" && remediation.text?.text).toMatch(/^\*Remediation\*\n1\. Ask/);
    expect(actions).toMatchObject({
      type: "actions",
      elements: [{ type: "button", text: { text: "Re-authenticate" }, url: incident.links[0]!.url }],
    });
    expect(message.text).toBe("🟠 [WARNING] Grant for &lt;alice&gt; &amp; bob is invalid");
  });

  it("posts a resolved message without remediation or buttons", () => {
    const resolved = notificationOf(
      {
        ...incident,
        status: "resolved",
        resolvedAt: "2026-11-23T13:00:00.000Z",
        resolveNote: "valid <again>",
      },
      "incident.resolved",
      2,
    );
    const message = formatSlackMessage(resolved);
    assertValidBlockKit(message);
    expect(message.blocks[0]).toMatchObject({
      text: { text: "✅ Resolved: valid <again>" },
    });
    // The header says what is true now; the problem it was follows as "Was".
    expect(JSON.stringify(message)).toContain("Grant for &lt;alice&gt; &amp; bob is invalid");
    expect(message.blocks.map((b) => b.type)).not.toContain("actions");
    expect(JSON.stringify(message)).toContain("valid &lt;again&gt;");
    expect(JSON.stringify(message)).not.toContain("Remediation");
  });

  it("respects every limit for a huge incident", () => {
    const message = formatSlackMessage(notificationOf(hugeIncident()));
    assertValidBlockKit(message);
    const context = message.blocks.at(-1)!;
    expect(JSON.stringify(context)).toMatch(/more details in the generic webhook/);
  });

  it("drops links that are not web URLs or are too long, and says so", () => {
    const message = formatSlackMessage(
      notificationOf({
        ...incident,
        links: [
          { title: "ok", url: "https://example.com/a" },
          { title: "bad", url: "javascript:alert(1)" },
          { title: "long", url: `https://example.com/${"x".repeat(3100)}` },
        ],
      }),
    );
    assertValidBlockKit(message);
    const actions = message.blocks.find((b) => b.type === "actions");
    expect(actions?.type === "actions" && actions.elements.map((e) => e.text.text)).toEqual(["ok"]);
    expect(JSON.stringify(message)).toContain("2 link(s) not shown");
  });

  it("formats announcements", () => {
    const announcement: Notification = {
      type: "announcement",
      id: "announce:rotation:1",
      event: "rotation.succeeded",
      createdAt: "2026-11-23T12:00:00.000Z",
      announcement: {
        event: "rotation.succeeded",
        idempotencyKey: "rotation:1",
        severity: "info",
        summary: "Rotated the connector secret",
        details: { app_id: "a" },
      },
      sinks: ["slack"],
    };
    const message = formatSlackMessage(announcement);
    assertValidBlockKit(message);
    expect(message.blocks[0]).toMatchObject({ text: { text: "🔵 Rotated the connector secret" } });
  });

  it("escapes &, < and > and never cuts an entity in half", () => {
    expect(escapeMrkdwn("a & <b> c")).toBe("a &amp; &lt;b&gt; c");
    const cut = escapeAndTruncate(`${"x".repeat(8)}&&&&`, 12);
    expect(cut.length).toBeLessThanOrEqual(12);
    assertEscaped(cut.replace("…", ""));
  });

  it("the sink posts JSON to its URL", () => {
    const sink = createSlackSink("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX");
    const request = sink.format(notificationOf(incident), { deliveryId: "d", sentAt: new Date() });
    expect(request.url).toBe("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX");
    assertValidBlockKit(JSON.parse(request.body));
    expect(sink.secrets).toContain("XXXXXXXXXXXXXXXXXXXXXXXX");
  });
});
