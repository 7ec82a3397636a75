/**
 * Tenant-controlled text (app display names, emails, grant ids, service error
 * texts) reaches every sink as literal text: never a hidden link, emphasis or
 * a mention in the on-call channel. An app registration may be named anything
 * by anyone who can create one, and WATCH_APP_IDS=* watches them all.
 */
import { describe, expect, it } from "vitest";
import type { Incident } from "../../../../lib/incidents/incident.js";
import { formatPagerDutyEvent, type PagerDutyTrigger } from "../../../../lib/incidents/sinks/pagerduty.js";
import { truncateAtWord } from "../../../../lib/incidents/sinks/render.js";
import { formatSlackMessage } from "../../../../lib/incidents/sinks/slack.js";
import { escapeTeamsMarkdown, formatTeamsMessage } from "../../../../lib/incidents/sinks/teams.js";
import { formatWebhookBody } from "../../../../lib/incidents/sinks/webhook.js";
import { grantSignal, incidentOf, notificationOf } from "../fixtures.js";

const LINK = "[click](https://evil.example)";
const BOLD = "**bold** <@here>";
const NAME = `${LINK} ${BOLD}`;

/** An expiry incident for an app whose display name, and a service's error text, are hostile. */
const hostile: Incident = incidentOf(
  grantSignal("grant_1", {
    key: "secret.expiring:app:key",
    kind: "secret.expiring",
    severity: "critical",
    summary: `${NAME}: client secret 1234abcd expires in 2 day(s)`,
    details: { app_id: "11111111-2222-3333-4444-555555555555", app_name: NAME, email: `_x_@contoso.com` },
    remediation: [`Create a new client secret for ${NAME}.`, `# Heading\n- item\n> quote\n1. step`],
  }),
  { resolveNote: `Graph said: ${LINK}` },
);

/** What CommonMark shows for backslash-escaped text: each "\\x" of ASCII punctuation is "x". */
function shown(markdown: string): string {
  return markdown.replace(/\\([!-/:-@[-`{-~])/g, "$1");
}

/** Markdown a renderer would act on: an unescaped link, emphasis, or a block marker at a line start. */
const ACTIVE_MARKDOWN = [
  /(?<!\\)\[[^\]]*(?<!\\)\]\(/, // [text](
  /(?<!\\)\*\*/, // **bold**
  /(?<!\\)_[^_\s]+(?<!\\)_/, // _italic_
  /^\s*(?:#|>|-|\+|\d+\.)\s/m, // # heading, > quote, - item, 1. item
];

describe("tenant text in every sink", () => {
  it("Teams: every TextBlock and FactSet text shows the name literally, with no active Markdown", () => {
    const card = formatTeamsMessage(notificationOf(hostile)).attachments[0].content;
    const texts = card.body.flatMap((e) =>
      e.type === "TextBlock" ? [e.text] : e.facts.flatMap((f) => [f.title, f.value]),
    );
    // The remediation list's own "1. " prefixes are the card's markup; what follows each is escaped.
    const tenantTexts = texts.map((t) => t.replace(/^\d+\. /gm, ""));
    for (const text of tenantTexts) for (const pattern of ACTIVE_MARKDOWN) expect(text).not.toMatch(pattern);
    const title = card.body[0];
    expect(title?.type === "TextBlock" && shown(title.text)).toBe(hostile.summary);
    expect(texts.map(shown)).toContain(NAME);
    expect(texts.map(shown)).toContain("_x_@contoso.com");
    expect(texts.map(shown).join("\n")).toContain("1. Create a new client secret for");
    expect(texts.map(shown).join("\n")).toContain("# Heading\n- item\n> quote\n1. step");
    const resolved = formatTeamsMessage(
      notificationOf(
        { ...hostile, status: "resolved", resolvedAt: hostile.lastChanged },
        "incident.resolved",
      ),
    ).attachments[0].content.body;
    const note = resolved.find((e) => e.type === "TextBlock" && shown(e.text) === `Graph said: ${LINK}`);
    expect(note?.type === "TextBlock" && note.text).toBe("Graph said: \\[click\\]\\(https://evil.example\\)");
    // The only buttons are the incident's own links, never one made from the name.
    expect(card.actions.map((a) => a.url)).not.toContain("https://evil.example");
  });

  it("Teams: the escape round-trips every ASCII punctuation mark and line-start marker", () => {
    const all = "a\\b `c` *d* _e_ ~f~ [g](h) !i #j >k -l +m 1.n";
    for (const text of [all, "# x", "  - y", "+ z", "> q", "12. r", "x\n- y\n3. z"]) {
      expect(shown(escapeTeamsMarkdown(text))).toBe(text);
      for (const pattern of ACTIVE_MARKDOWN) expect(escapeTeamsMarkdown(text)).not.toMatch(pattern);
    }
  });

  it("Slack: the name is literal in the plain-text header, and no <…> link or mention survives in mrkdwn", () => {
    const message = formatSlackMessage(notificationOf(hostile));
    const header = message.blocks[0];
    expect(header?.type === "header" && header.text.text).toContain(NAME);
    const mrkdwn = JSON.stringify([message.text, ...message.blocks.slice(1)]);
    expect(mrkdwn).toContain("[click](https://evil.example) **bold** &lt;@here&gt;");
    expect(mrkdwn).not.toContain("<@here>");
    expect(mrkdwn).not.toMatch(/<https?:/);
  });

  it("PagerDuty: the summary is the name as plain text, on one line", () => {
    const event = formatPagerDutyEvent(
      notificationOf({ ...hostile, summary: `${NAME}\nsecond line` }),
      "R0utingKey0123456789abcdefABCDEF",
    ) as PagerDutyTrigger;
    expect(event.payload.summary).toBe(`${NAME} second line`);
    expect(event.payload.custom_details.app_name).toBe(NAME);
  });

  it("PagerDuty: a long summary is cut at a word boundary with an ellipsis, within 1024 characters", () => {
    const summary = `${NAME} ${"expires soon ".repeat(200)}`;
    const event = formatPagerDutyEvent(
      notificationOf({ ...hostile, summary }),
      "R0utingKey0123456789abcdefABCDEF",
    ) as PagerDutyTrigger;
    const cut = event.payload.summary;
    expect(cut.length).toBeLessThanOrEqual(1024);
    expect(cut.endsWith("…")).toBe(true);
    expect(summary.startsWith(cut.slice(0, -1))).toBe(true);
    expect(cut.slice(0, -1)).toMatch(/(?:expires|soon)$/);
    // A word longer than half the limit is cut inside; a surrogate pair is never split.
    expect(truncateAtWord(`${"😀".repeat(10)}`, 6)).toBe("😀😀…");
  });

  it("webhook: the JSON carries the text byte for byte; receivers render it as they must", () => {
    const body = formatWebhookBody(notificationOf(hostile), {
      deliveryId: "d-1",
      sentAt: new Date("2026-11-23T12:00:00Z"),
    });
    const parsed = JSON.parse(JSON.stringify(body)) as {
      incident: { summary: string; details: { app_name: string } };
    };
    expect(parsed.incident.summary).toBe(hostile.summary);
    expect(parsed.incident.details.app_name).toBe(NAME);
  });
});
