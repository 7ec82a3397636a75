/**
 * Slack incoming webhook, Block Kit. Slack refuses a whole message (400
 * `invalid_blocks`) for one block over its limits, so every limit is enforced
 * here: https://api.slack.com/reference/block-kit/blocks
 */
import type { Notification } from "../incident.js";
import { isWebUrl, truncateAtWord, viewOf, type NotificationView } from "./render.js";
import { chatWebhookSink, type Sink } from "./sink.js";

export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  contextElements: 10,
  contextText: 2000,
  fallbackText: 3000,
} as const;

/** At most this many field sections; further details are counted, not shown (the webhook carries them all). */
const MAX_FIELD_SECTIONS = 4;

type PlainText = { type: "plain_text"; text: string; emoji?: boolean };
type Mrkdwn = { type: "mrkdwn"; text: string };
export type SlackBlock =
  | { type: "header"; text: PlainText }
  | { type: "section"; text?: Mrkdwn; fields?: Mrkdwn[] }
  | {
      type: "actions";
      elements: { type: "button"; text: PlainText; url: string; action_id: string }[];
    }
  | { type: "context"; elements: Mrkdwn[] };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  unfurl_links: false;
  unfurl_media: false;
}

/**
 * Slack's three control characters in mrkdwn: https://api.slack.com/reference/surfaces/formatting#escaping
 * Escaped, tenant text can form no link (`<url|text>`), mention (`<@U…>`, `<!here>`) or channel
 * reference; Markdown's `[text](url)` is no link syntax in mrkdwn. Slack documents no escape for
 * `*`, `_`, `~` and `` ` ``: they may still style a word, never hide a target.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes, then cuts to `max` without leaving half an entity ("&am…") behind. */
export function escapeAndTruncate(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  const cut = escaped.slice(0, max - 1).replace(/&[a-z]{0,3}$/, "");
  return `${cut}…`;
}

const EMOJI = { critical: "🔴", warning: "🟠", info: "🔵", resolved: "✅" } as const;

function emojiOf(view: NotificationView): string {
  return view.tone === "resolved" ? EMOJI.resolved : EMOJI[view.severity];
}

/** Pure: the Block Kit message for a notification. */
export function formatSlackMessage(notification: Notification): SlackMessage {
  const view = viewOf(notification);
  const emoji = emojiOf(view);
  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: truncateAtWord(`${emoji} ${view.title}`, SLACK_LIMITS.headerText),
        emoji: true,
      },
    },
  ];

  const facts = [{ label: "Severity", value: view.severity }, ...view.facts];
  const shown = facts.slice(0, SLACK_LIMITS.fields * MAX_FIELD_SECTIONS);
  for (let i = 0; i < shown.length; i += SLACK_LIMITS.fields) {
    blocks.push({
      type: "section",
      fields: shown.slice(i, i + SLACK_LIMITS.fields).map((f) => ({
        type: "mrkdwn",
        text: escapeAndTruncate(`*${f.label}*\n${f.value}`, SLACK_LIMITS.fieldText),
      })),
    });
  }

  if (view.note !== undefined && view.note !== "") {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: escapeAndTruncate(view.note, SLACK_LIMITS.sectionText) },
    });
  }

  if (view.remediation.length > 0) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: remediationText(view.remediation) } });
  }

  const buttons = view.links
    .filter((l) => isWebUrl(l.url) && l.url.length <= SLACK_LIMITS.buttonUrl)
    .slice(0, SLACK_LIMITS.actionsElements)
    .map((l, i) => ({
      type: "button" as const,
      text: {
        type: "plain_text" as const,
        text: truncateAtWord(l.title === "" ? l.url : l.title, SLACK_LIMITS.buttonText),
      },
      url: l.url,
      action_id: `link-${i}`,
    }));
  if (buttons.length > 0) blocks.push({ type: "actions", elements: buttons });

  const context = [...view.context];
  if (facts.length > shown.length)
    context.push(`${facts.length - shown.length} more details in the generic webhook`);
  const droppedLinks = view.links.length - buttons.length;
  if (droppedLinks > 0) context.push(`${droppedLinks} link(s) not shown (not a web URL or too long)`);
  blocks.push({
    type: "context",
    elements: context
      .slice(0, SLACK_LIMITS.contextElements)
      .map((t) => ({ type: "mrkdwn", text: escapeAndTruncate(t, SLACK_LIMITS.contextText) })),
  });

  return {
    text: escapeAndTruncate(
      `${emoji} [${view.severity.toUpperCase()}] ${view.title}`,
      SLACK_LIMITS.fallbackText,
    ),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
    unfurl_links: false,
    unfurl_media: false,
  };
}

function remediationText(steps: string[]): string {
  const heading = "*Remediation*";
  let text = heading;
  for (let i = 0; i < steps.length; i++) {
    const line = `\n${i + 1}. ${escapeMrkdwn(steps[i] ?? "")}`;
    const rest = steps.length - i;
    const tail = `\n…and ${rest} more step${rest === 1 ? "" : "s"}`;
    if (text.length + line.length > SLACK_LIMITS.sectionText - 40) {
      if (text === heading) text += escapeAndTruncate(line, SLACK_LIMITS.sectionText - heading.length - 40);
      else return text + tail;
      continue;
    }
    text += line;
  }
  return text;
}

/** A Slack incoming-webhook sink. The URL is the credential: it is never logged. */
export function createSlackSink(url: string): Sink {
  return chatWebhookSink("slack", url, formatSlackMessage);
}
