/**
 * Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook
 * request is received"); Office 365 connectors are retired. The body is a message
 * with one Adaptive Card 1.4 attachment, and Teams refuses messages over about 28 KB:
 * https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages
 */
import type { Notification } from "../incident.js";
import { isWebUrl, truncateAtWord, viewOf, type NotificationView } from "./render.js";
import { chatWebhookSink, type Sink } from "./sink.js";

/** Serialized body budget, a margin under Teams' 28 KB message limit. */
export const TEAMS_MAX_BODY_BYTES = 27_000;
/** Teams shows at most six card actions. */
const MAX_ACTIONS = 6;
/** Longer URLs are dropped rather than cut (a cut URL is a broken link), keeping the card small. */
const MAX_URL_CHARS = 2048;

export type TeamsElement =
  | {
      type: "TextBlock";
      text: string;
      wrap: true;
      size?: "Small" | "Medium" | "Large";
      weight?: "Bolder";
      color?: "Attention" | "Warning" | "Good" | "Accent";
      isSubtle?: boolean;
      spacing?: "None" | "Medium";
    }
  | { type: "FactSet"; facts: { title: string; value: string }[] };

export interface TeamsAction {
  type: "Action.OpenUrl";
  title: string;
  url: string;
}

export interface TeamsMessage {
  type: "message";
  attachments: [
    {
      contentType: "application/vnd.microsoft.card.adaptive";
      contentUrl: null;
      content: {
        $schema: "http://adaptivecards.io/schemas/adaptive-card.json";
        type: "AdaptiveCard";
        version: "1.4";
        body: TeamsElement[];
        actions: TeamsAction[];
        msteams: { width: "Full" };
      };
    },
  ];
}

interface Caps {
  text: number;
  facts: number;
  lines: number;
}

/** Markdown that Teams renders anywhere in a line: emphasis, code, links and images, and the escape itself. */
const INLINE_MARKDOWN = /[\\`*_~[\]()!]/g;
/** Markdown that only counts at the start of a line: headings, quotes, list items ("-", "+", "1."). */
const LINE_START_MARKDOWN = /^(\s*)(#|>|-|\+|\d+\.)/gm;

/**
 * Text as Teams should show it, character for character: TextBlock and
 * FactSet text is Markdown, so an app named `[click](https://evil.example)`
 * would otherwise become a hidden link in the on-call channel. Backslash
 * escapes are CommonMark's; the backslash between "]" and "(" also breaks a
 * link for a renderer that ignores escapes.
 * https://learn.microsoft.com/adaptive-cards/authoring-cards/text-features
 */
export function escapeTeamsMarkdown(text: string): string {
  return text
    .replace(INLINE_MARKDOWN, "\\$&")
    .replace(LINE_START_MARKDOWN, (_m, space: string, mark: string) =>
      // "1." is escaped at its dot: a backslash before a digit is no escape in CommonMark.
      mark.endsWith(".") ? `${space}${mark.slice(0, -1)}\\.` : `${space}\\${mark}`,
    );
}

function colorOf(view: NotificationView): "Attention" | "Warning" | "Good" | "Accent" {
  if (view.tone === "resolved") return "Good";
  if (view.severity === "critical") return "Attention";
  if (view.severity === "warning") return "Warning";
  return "Accent";
}

function build(
  view: NotificationView,
  eventName: string,
  caps: Caps,
): { message: TeamsMessage; cut: boolean } {
  let cut = false;
  // Every text below may carry tenant-controlled words (app names, emails, service errors): cut, then escaped.
  const t = (text: string, max: number) => {
    if (text.length > max) cut = true;
    return escapeTeamsMarkdown(truncateAtWord(text, max));
  };
  const body: TeamsElement[] = [
    {
      type: "TextBlock",
      text: t(view.title, Math.min(caps.text, 500)),
      wrap: true,
      size: "Large",
      weight: "Bolder",
      color: colorOf(view),
    },
    {
      type: "TextBlock",
      text: escapeTeamsMarkdown(`${view.severity.toUpperCase()} · ${eventName}`),
      wrap: true,
      isSubtle: true,
      spacing: "None",
    },
  ];
  const facts = [...view.facts];
  if (facts.length > caps.facts) cut = true;
  if (facts.length > 0) {
    body.push({
      type: "FactSet",
      facts: facts
        .slice(0, caps.facts)
        .map((f) => ({ title: t(f.label, 100), value: t(f.value, caps.text) })),
    });
  }
  if (view.note !== undefined && view.note !== "") {
    body.push({ type: "TextBlock", text: t(view.note, caps.text), wrap: true });
  }
  if (view.remediation.length > 0) {
    if (view.remediation.length > caps.lines) cut = true;
    body.push(
      { type: "TextBlock", text: "Remediation", wrap: true, weight: "Bolder", spacing: "Medium" },
      {
        type: "TextBlock",
        text: view.remediation
          .slice(0, caps.lines)
          .map((step, i) => `${i + 1}. ${t(step, caps.text)}`)
          .join("\n"),
        wrap: true,
      },
    );
  }
  const links = view.links.filter((l) => isWebUrl(l.url) && l.url.length <= MAX_URL_CHARS);
  if (links.length > MAX_ACTIONS || links.length < view.links.length) cut = true;
  const actions: TeamsAction[] = links.slice(0, MAX_ACTIONS).map((l) => ({
    type: "Action.OpenUrl",
    title: truncateAtWord(l.title === "" ? "Open" : l.title, 80),
    url: l.url,
  }));
  const context = view.context.map((c) => t(c, 300));
  if (cut)
    context.push(
      "Shortened to fit Teams' message size limit: the generic webhook carries the full incident.",
    );
  body.push({ type: "TextBlock", text: context.join(" · "), wrap: true, isSubtle: true, size: "Small" });

  return {
    cut,
    message: {
      type: "message",
      attachments: [
        {
          contentType: "application/vnd.microsoft.card.adaptive",
          contentUrl: null,
          content: {
            $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
            type: "AdaptiveCard",
            version: "1.4",
            body,
            actions,
            msteams: { width: "Full" },
          },
        },
      ],
    },
  };
}

/** Pure: the Workflows message for a notification, within TEAMS_MAX_BODY_BYTES. */
export function formatTeamsMessage(notification: Notification): TeamsMessage {
  const view = viewOf(notification);
  let caps: Caps = { text: 2000, facts: 60, lines: 40 };
  for (;;) {
    const { message } = build(view, notification.event, caps);
    if (Buffer.byteLength(JSON.stringify(message)) <= TEAMS_MAX_BODY_BYTES) return message;
    if (caps.text <= 20 && caps.facts <= 1 && caps.lines <= 1) return message;
    caps = {
      text: Math.max(20, Math.floor(caps.text / 2)),
      facts: Math.max(1, Math.floor(caps.facts / 2)),
      lines: Math.max(1, Math.floor(caps.lines / 2)),
    };
  }
}

/** A Teams Workflows webhook sink. The URL carries a signature (`sig=`): it is never logged. */
export function createTeamsSink(url: string): Sink {
  return chatWebhookSink("teams", url, formatTeamsMessage);
}
