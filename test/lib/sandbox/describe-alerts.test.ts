import { describe, expect, it } from "vitest";
import { describeAlerts } from "../../../lib/sandbox/describe-alerts.js";

type Receipt = Parameters<typeof describeAlerts>[0][number];

const KEY_A = "secret.migration:11111111-1111-4111-8111-111111111111";
const KEY_B = "grant.invalid:22222222-2222-4222-8222-222222222222";

function webhook(event: string, key: string, summary: string, note: string | null = null): Receipt {
  return {
    sink: "webhook",
    headers: { "x-watchdog-signature": "sha256=00" },
    body: JSON.stringify({
      event,
      incident: { key, severity: "critical", summary, resolve_note: note },
    }),
  };
}

function slack(key: string, header: string): Receipt {
  return {
    sink: "slack",
    headers: {},
    body: JSON.stringify({
      text: header,
      blocks: [
        { type: "header", text: { type: "plain_text", text: header } },
        { type: "context", elements: [{ type: "mrkdwn", text: `secret-watchdog · ${key}` }] },
      ],
    }),
  };
}

function pagerduty(action: string, key: string): Receipt {
  return { sink: "pagerduty", headers: {}, body: JSON.stringify({ event_action: action, dedup_key: key }) };
}

function reauth(email: string): Receipt {
  return {
    sink: "webhook",
    headers: {},
    body: JSON.stringify({
      event: "grant.reauth_requested",
      announcement: { key: `reauth:${email}`, severity: "info", summary: `Sign in again: ${email}` },
    }),
  };
}

const receipts: Receipt[] = [
  webhook(
    "incident.resolved",
    KEY_A,
    "49 users still on the old secret",
    "Migration complete: 0 users left.",
  ),
  slack(KEY_A, "✅ Resolved: 49 users still on the old secret"),
  pagerduty("resolve", KEY_A),
  pagerduty("trigger", KEY_B),
  webhook("incident.triggered", KEY_B, "Nylas grant for adele is invalid"),
  slack(KEY_B, "🔴 Nylas grant for adele is invalid"),
  reauth("a@contoso.com"),
  reauth("b@contoso.com"),
];

describe("describeAlerts", () => {
  it("groups deliveries per incident, in the same order however they arrived", () => {
    const text = describeAlerts(receipts);
    for (const shuffled of [[...receipts].reverse(), [...receipts.slice(3), ...receipts.slice(0, 3)]])
      expect(describeAlerts(shuffled)).toBe(text);
    expect(text.split("\n")).toEqual([
      `• ${KEY_B} triggered, critical: Nylas grant for adele is invalid`,
      `    PagerDuty  trigger dedup_key=${KEY_B}`,
      "    Slack      🔴 Nylas grant for adele is invalid",
      "    Webhook    incident.triggered, signed X-Watchdog-Signature",
      "• grant.reauth_requested, info",
      "    Webhook    grant.reauth_requested, unsigned ×2",
      `• ${KEY_A} resolved, critical: "Migration complete: 0 users left."`,
      `    PagerDuty  resolve dedup_key=${KEY_A}`,
      "    Slack      ✅ Resolved: 49 users still on the old secret",
      "    Webhook    incident.resolved, signed X-Watchdog-Signature",
    ]);
  });

  it("orders groups by their words, not by the ids in them", () => {
    const one = (id: string, summary: string) =>
      webhook("incident.triggered", `secret.expiring:${id}`, summary);
    const text = describeAlerts([
      one("00000000-0000-4000-8000-000000000000", "Zeta sync expires"),
      one("ffffffff-ffff-4fff-8fff-ffffffffffff", "Alpha sync expires"),
    ]);
    expect(text.indexOf("Alpha")).toBeLessThan(text.indexOf("Zeta"));
  });

  it("says so when nothing was delivered", () => {
    expect(describeAlerts([])).toBe("(no alerts)");
  });
});
