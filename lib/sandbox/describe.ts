/**
 * How the sandbox shows what happened: alert deliveries in each sink's own
 * terms, and indented blocks. Shared by the story and its chapters.
 */

/** Indents every non-empty line. */
export function indent(text: string, by = "   "): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => (l === "" ? l : by + l))
    .join("\n");
}

interface Receipt {
  sink: string;
  body: string;
  headers: Record<string, string>;
}

type Body = Record<string, unknown>;

/** Each sink's delivery, in its own terms. */
const SINK_LINES = new Map<string, (body: Body, r: Receipt) => string>([
  [
    "slack",
    (body) => {
      const header = (body.blocks as { type: string; text?: { text: string } }[] | undefined)?.find(
        (b) => b.type === "header",
      );
      return `Slack      ${header?.text?.text ?? String(body.text)}`;
    },
  ],
  [
    "teams",
    (body, r) => {
      const card = (
        body.attachments as { content: { body: { type: string; text?: string }[] } }[] | undefined
      )?.[0]?.content;
      return `Teams      Adaptive Card: ${card?.body.find((b) => b.type === "TextBlock")?.text ?? "?"} (${r.body.length} bytes)`;
    },
  ],
  [
    "pagerduty",
    (body) => {
      const payload = body.payload as { severity?: string; summary?: string } | undefined;
      return `PagerDuty  ${String(body.event_action)} dedup_key=${String(body.dedup_key)}${payload ? ` severity=${payload.severity} "${payload.summary?.slice(0, 70)}"` : ""}`;
    },
  ],
  [
    "webhook",
    (body, r) => {
      const incident = body.incident as { key?: string; severity?: string } | undefined;
      return `Webhook    ${String(body.event)}${incident ? ` ${incident.key} (${incident.severity})` : ""}, ${r.headers["x-watchdog-signature"] ? "signed X-Watchdog-Signature" : "unsigned"}`;
    },
  ],
]);

/** One line per sink delivery, in the sink's own terms. */
export function describeAlerts(receipts: readonly Receipt[]): string {
  if (receipts.length === 0) return "(no alerts)";
  const lines: string[] = [];
  for (const r of receipts) {
    let body: Body;
    try {
      body = JSON.parse(r.body) as Body;
    } catch {
      continue;
    }
    const line = SINK_LINES.get(r.sink)?.(body, r);
    if (line !== undefined) lines.push(line);
  }
  return lines.join("\n");
}
