/**
 * How the sandbox shows alert deliveries: grouped per incident (or per kind of
 * announcement), each group headed by what the incident says — the note of a
 * resolve, which says what is true now — then one line per sink in its own
 * terms. Sinks are called concurrently, so arrival order differs from run to
 * run; groups and lines are sorted on text with the ids blanked out, so two
 * runs read the same apart from ids.
 */
import type { SinkReceipt } from "../sim/index.js";

type Receipt = Pick<SinkReceipt, "sink" | "body" | "headers">;
type Body = Record<string, unknown>;

interface Group {
  key: string;
  header: string | undefined;
  lines: string[];
}

/** Chat messages name the incident key (or the announcement's event) in their context line. */
const CONTEXT_KEY = /secret-watchdog · ([^\s"\\]+)/;
const SINK_ORDER = ["pagerduty", "slack", "teams", "webhook"];

/** Ids (UUIDs, key prefixes, installation ids) blanked, so sorting does not depend on them. */
export function withoutIds(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "#")
    .replace(/\b(?:i-)?[0-9a-f]{8}\b/g, "#");
}

function byText(a: string, b: string): number {
  const x = withoutIds(a);
  const y = withoutIds(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function webhookHeader(body: Body): { key: string; header: string } | undefined {
  const incident = body.incident as
    { key: string; severity: string; summary: string; resolve_note: string | null } | undefined;
  if (incident !== undefined) {
    const event = String(body.event).replace("incident.", "");
    const text =
      event === "resolved" && incident.resolve_note !== null
        ? `"${incident.resolve_note}"`
        : incident.summary;
    return { key: incident.key, header: `${incident.key} ${event}, ${incident.severity}: ${text}` };
  }
  const a = body.announcement as { severity: string; summary: string } | undefined;
  if (a === undefined) return undefined;
  const event = String(body.event);
  // One group per kind of announcement: a pass sends one grant.reauth_requested per user.
  return { key: event, header: `${event}, ${a.severity}` };
}

function keyOf(r: Receipt, body: Body): string {
  if (r.sink === "pagerduty") return String(body.dedup_key);
  if (r.sink === "webhook") {
    const incident = body.incident as { key: string } | undefined;
    return incident?.key ?? String(body.event);
  }
  return CONTEXT_KEY.exec(r.body)?.[1] ?? "?";
}

/** What one sink received, in its own terms; the group's header already says what it is about. */
function sinkLine(r: Receipt, body: Body): string {
  switch (r.sink) {
    case "pagerduty": {
      const payload = body.payload as { severity?: string } | undefined;
      return `PagerDuty  ${String(body.event_action)} dedup_key=${String(body.dedup_key)}${payload ? ` severity=${payload.severity}` : ""}`;
    }
    case "slack": {
      const header = (body.blocks as { type: string; text?: { text: string } }[] | undefined)?.find(
        (b) => b.type === "header",
      );
      return `Slack      ${header?.text?.text ?? String(body.text)}`;
    }
    case "teams":
      return `Teams      Adaptive Card (${r.body.length} bytes)`;
    default:
      return `Webhook    ${String(body.event)}, ${r.headers["x-watchdog-signature"] ? "signed X-Watchdog-Signature" : "unsigned"}`;
  }
}

function groupsOf(receipts: readonly Receipt[]): Group[] {
  const groups = new Map<string, Group>();
  for (const r of receipts) {
    let body: Body;
    try {
      body = JSON.parse(r.body) as Body;
    } catch {
      continue;
    }
    const key = keyOf(r, body);
    const group = groups.get(key) ?? { key, header: undefined, lines: [] };
    groups.set(key, group);
    if (r.sink === "webhook") group.header ??= webhookHeader(body)?.header;
    group.lines.push(`${SINK_ORDER.indexOf(r.sink)}${sinkLine(r, body)}`);
  }
  return [...groups.values()];
}

/** Identical lines (one per user of an announcement) counted, not repeated; the sink order prefix dropped. */
function counted(lines: string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of [...lines].sort(byText)) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, n]) => (n > 1 ? `${line.slice(1)} ×${n}` : line.slice(1)));
}

/** The deliveries grouped per incident, in an order that does not depend on arrival or ids. */
export function describeAlerts(receipts: readonly Receipt[]): string {
  const groups = groupsOf(receipts);
  if (groups.length === 0) return "(no alerts)";
  const blocks = groups.map((g) => ({
    header: g.header ?? g.key,
    lines: counted(g.lines),
  }));
  blocks.sort((a, b) => byText(a.header, b.header));
  return blocks.map((b) => [`• ${b.header}`, ...b.lines.map((l) => `    ${l}`)].join("\n")).join("\n");
}
