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

/** One line per sink delivery, in the sink's own terms. */
export function describeAlerts(receipts: readonly Receipt[]): string {
  if (receipts.length === 0) return "(no alerts)";
  const lines: string[] = [];
  for (const r of receipts) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(r.body) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (r.sink === "slack") {
      const header = (body.blocks as { type: string; text?: { text: string } }[] | undefined)?.find(
        (b) => b.type === "header",
      );
      lines.push(`Slack      ${header?.text?.text ?? String(body.text)}`);
    } else if (r.sink === "teams") {
      const card = (
        body.attachments as { content: { body: { type: string; text?: string }[] } }[] | undefined
      )?.[0]?.content;
      lines.push(
        `Teams      Adaptive Card: ${card?.body.find((b) => b.type === "TextBlock")?.text ?? "?"} (${r.body.length} bytes)`,
      );
    } else if (r.sink === "pagerduty") {
      const payload = body.payload as { severity?: string; summary?: string } | undefined;
      lines.push(
        `PagerDuty  ${String(body.event_action)} dedup_key=${String(body.dedup_key)}${payload ? ` severity=${payload.severity} "${payload.summary?.slice(0, 70)}"` : ""}`,
      );
    } else if (r.sink === "webhook") {
      const incident = body.incident as { key?: string; severity?: string } | undefined;
      lines.push(
        `Webhook    ${String(body.event)}${incident ? ` ${incident.key} (${incident.severity})` : ""}, ${r.headers["x-watchdog-signature"] ? "signed X-Watchdog-Signature" : "unsigned"}`,
      );
    }
  }
  return lines.join("\n");
}
