import { describe, expect, it } from "vitest";
import {
  createTeamsSink,
  formatTeamsMessage,
  type TeamsMessage,
} from "../../../../lib/incidents/sinks/teams.js";
import { grantSignal, hugeIncident, incidentOf, notificationOf } from "../fixtures.js";

/** Adaptive Card 1.4 elements Teams renders: https://adaptivecards.io/explorer/ */
const ELEMENT_TYPES = new Set([
  "TextBlock",
  "FactSet",
  "Container",
  "ColumnSet",
  "Image",
  "ImageSet",
  "RichTextBlock",
  "ActionSet",
]);
const COLORS = new Set(["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"]);

function assertValidCard(message: TeamsMessage): void {
  expect(message.type).toBe("message");
  expect(message.attachments).toHaveLength(1);
  const [attachment] = message.attachments;
  expect(attachment.contentType).toBe("application/vnd.microsoft.card.adaptive");
  expect(attachment.contentUrl).toBeNull();
  const card = attachment.content;
  expect(card.$schema).toBe("http://adaptivecards.io/schemas/adaptive-card.json");
  expect(card.type).toBe("AdaptiveCard");
  expect(card.version).toBe("1.4");
  expect(card.body.length).toBeGreaterThan(0);
  for (const element of card.body) {
    expect(ELEMENT_TYPES.has(element.type)).toBe(true);
    if (element.type === "TextBlock") {
      expect(typeof element.text).toBe("string");
      if (element.color !== undefined) expect(COLORS.has(element.color)).toBe(true);
    } else {
      expect(element.facts.length).toBeGreaterThan(0);
      for (const fact of element.facts) {
        expect(typeof fact.title).toBe("string");
        expect(typeof fact.value).toBe("string");
      }
    }
  }
  expect(card.actions.length).toBeLessThanOrEqual(6);
  for (const action of card.actions) {
    expect(action.type).toBe("Action.OpenUrl");
    expect(action.title.length).toBeGreaterThan(0);
    expect(["https:", "http:"]).toContain(new URL(action.url).protocol);
  }
}

const incident = incidentOf(grantSignal(undefined, { severity: "critical" }));

describe("Teams Workflows message (Adaptive Card)", () => {
  it("is a valid card: red title, facts, remediation, open-URL actions", () => {
    const message = formatTeamsMessage(notificationOf(incident));
    assertValidCard(message);
    const card = message.attachments[0].content;
    expect(card.body[0]).toMatchObject({
      type: "TextBlock",
      text: incident.summary,
      color: "Attention",
      weight: "Bolder",
    });
    expect(card.body.find((e) => e.type === "FactSet")).toMatchObject({
      facts: expect.arrayContaining([{ title: "Email", value: "alice@contoso.com" }]),
    });
    expect(JSON.stringify(card.body)).toContain("1. Ask alice@contoso.com to re-authenticate");
    expect(card.actions).toEqual([
      { type: "Action.OpenUrl", title: "Re-authenticate", url: incident.links[0]!.url },
    ]);
  });

  it("a resolved message is green and has no remediation", () => {
    const message = formatTeamsMessage(
      notificationOf(
        {
          ...incident,
          status: "resolved",
          resolvedAt: "2026-11-23T13:00:00.000Z",
          resolveNote: "valid again",
        },
        "incident.resolved",
        2,
      ),
    );
    assertValidCard(message);
    const card = message.attachments[0].content;
    expect(card.body[0]).toMatchObject({ text: "Resolved: valid again", color: "Good" });
    // The problem it was follows as "Was".
    expect(JSON.stringify(card)).toContain(incident.summary);
    expect(JSON.stringify(card)).not.toContain("Remediation");
    expect(JSON.stringify(card)).toContain("valid again");
    expect(card.actions).toEqual([]);
  });

  it("stays under 28 KB for a huge incident, and says it was shortened", () => {
    const message = formatTeamsMessage(notificationOf(hugeIncident()));
    assertValidCard(message);
    const bytes = Buffer.byteLength(JSON.stringify(message));
    expect(bytes).toBeLessThan(28 * 1000);
    expect(JSON.stringify(message)).toContain("Shortened to fit Teams");
  });

  it("stays under 28 KB even when every single field is enormous", () => {
    const giant = "é".repeat(100_000);
    const message = formatTeamsMessage(
      notificationOf({
        ...incident,
        key: giant,
        summary: giant,
        details: { a: giant, b: giant },
        remediation: [giant, giant],
        resolveNote: giant,
        links: [{ title: giant, url: `https://example.com/${"x".repeat(50_000)}` }],
      }),
    );
    assertValidCard(message);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(28 * 1000);
  });

  it("the sink's body is the serialized card", () => {
    const sink = createTeamsSink(
      "https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SIGSIGSIGSIGSIGSIG",
    );
    const request = sink.format(notificationOf(incident), { deliveryId: "d", sentAt: new Date() });
    assertValidCard(JSON.parse(request.body));
    expect(sink.secrets).toContain("SIGSIGSIGSIGSIGSIG");
  });
});
