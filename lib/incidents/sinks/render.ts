/**
 * The human-readable view of a notification that the chat sinks (Slack, Teams)
 * lay out in their own markup: one title, the facts, the steps, the links.
 */
import type { Details, Link, Notification, Severity } from "../incident.js";

// Cut at a word so a summary cut for a chat header never ends mid-word ("…is invalid: the us").
export { truncateAtWord } from "../../util/truncate-at-word.js";

export interface NotificationView {
  /** "firing" for trigger/repeat, "resolved", or "announcement" for one-shot events. */
  tone: "firing" | "resolved" | "announcement";
  severity: Severity;
  title: string;
  facts: { label: string; value: string }[];
  remediation: string[];
  links: Link[];
  /** Short trailing lines: incident key, first seen, notification count. */
  context: string[];
  note: string | undefined;
}

const EVENT_PREFIX: Record<string, string> = {
  "incident.triggered": "",
  "incident.repeated": "Still open: ",
  "incident.resolved": "Resolved: ",
};

/** "grant_id" → "Grant id", "daysLeft" → "Days left". */
export function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_.-]+/g, " ")
    .trim()
    .toLowerCase();
  return words === "" ? key : words.charAt(0).toUpperCase() + words.slice(1);
}

export function valueOf(value: Details[string]): string {
  if (value === null) return "—";
  return String(value);
}

/**
 * Plain text for a field that renders no markup but is shown on one line
 * (PagerDuty's summary): control characters, line breaks among them, become
 * spaces, so tenant text cannot forge a second line.
 */
export function plainText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}

/** Only absolute http(s) URLs become buttons: a chat service refuses the whole message for one bad URL. */
export function isWebUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

export function viewOf(notification: Notification): NotificationView {
  if (notification.type === "incident") {
    const incident = notification.incident;
    const resolved = notification.event === "incident.resolved";
    // A resolve leads with what is true now; the problem it was stays, as "Was", for context.
    const note = resolved ? incident.resolveNote : undefined;
    const context = [
      `secret-watchdog · ${incident.key}`,
      `first seen ${incident.firstSeen}`,
      resolved && incident.resolvedAt !== null
        ? `resolved ${incident.resolvedAt}`
        : `notification ${incident.notifications}`,
    ];
    return {
      tone: resolved ? "resolved" : "firing",
      severity: incident.severity,
      title: `${EVENT_PREFIX[notification.event] ?? ""}${note ?? incident.summary}`,
      facts: [
        ...(note !== undefined ? [{ label: "Was", value: incident.summary }] : []),
        ...Object.entries(incident.details).map(([k, v]) => ({ label: labelOf(k), value: valueOf(v) })),
      ],
      remediation: resolved ? [] : incident.remediation,
      links: resolved ? [] : incident.links,
      context,
      note,
    };
  }
  const a = notification.announcement;
  const facts = Object.entries(a.details).map(([k, v]) => ({ label: labelOf(k), value: valueOf(v) }));
  if (a.grant !== undefined) {
    facts.unshift(
      { label: "Grant id", value: a.grant.grantId },
      { label: "Email", value: a.grant.email },
      { label: "Re-authenticate by", value: a.grant.deadline },
    );
  }
  const links = [...(a.links ?? [])];
  if (a.grant?.reauthUrl !== undefined && !links.some((l) => l.url === a.grant?.reauthUrl)) {
    links.unshift({ title: "Re-authentication link", url: a.grant.reauthUrl });
  }
  return {
    tone: "announcement",
    severity: a.severity,
    title: a.summary,
    facts,
    remediation: a.remediation ?? [],
    links,
    context: [`secret-watchdog · ${notification.event}`, notification.createdAt],
    note: undefined,
  };
}
