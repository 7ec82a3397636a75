/** Shared test material: signals, a logger that keeps every line, notifications. */
import type { Logger } from "../../../lib/logger.js";
import type { Incident, IncidentNotification, Signal } from "../../../lib/incidents/incident.js";

export interface CapturedLogger extends Logger {
  lines: string[];
}

export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const line =
    (level: string) =>
    (message: string, ...args: unknown[]) => {
      lines.push(
        `${level} ${message} ${args.map((a) => (a instanceof Error ? `${a.message} ${String(a.stack)}` : JSON.stringify(a))).join(" ")}`,
      );
    };
  return { lines, debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
}

export function grantSignal(
  grantId = "3f1c2a7e-0000-4000-8000-000000000001",
  overrides: Partial<Signal> = {},
): Signal {
  return {
    key: `grant.invalid:${grantId}`,
    kind: "grant.invalid",
    severity: "warning",
    summary: `Nylas grant for alice@contoso.com is invalid`,
    details: { grant_id: grantId, email: "alice@contoso.com", provider: "microsoft" },
    remediation: [
      "Ask alice@contoso.com to re-authenticate with the link below.",
      "If many grants went invalid at once, check the Azure client secret (watchdog scan).",
    ],
    links: [
      {
        title: "Re-authenticate",
        url: "https://api.us.nylas.com/v3/connect/auth?login_hint=alice%40contoso.com",
      },
    ],
    ...overrides,
  };
}

export function incidentOf(signal: Signal, overrides: Partial<Incident> = {}): Incident {
  return {
    ...signal,
    status: "firing",
    firstSeen: "2026-11-23T12:00:00.000Z",
    lastChanged: "2026-11-23T12:00:00.000Z",
    lastNotified: "2026-11-23T12:00:00.000Z",
    resolvedAt: null,
    notifications: 1,
    ...overrides,
  };
}

export function notificationOf(
  incident: Incident,
  event: IncidentNotification["event"] = "incident.triggered",
  seq = 1,
): IncidentNotification {
  return {
    type: "incident",
    id: `${incident.key}@${seq}`,
    seq,
    event,
    createdAt: incident.lastChanged,
    incident,
    sinks: ["webhook", "slack", "teams", "pagerduty"],
  };
}

/** An incident with far more content than any chat message can hold. */
export function hugeIncident(): Incident {
  const details: Incident["details"] = {};
  for (let i = 0; i < 400; i++)
    details[`grant_${i}_email`] = `user${i}@contoso.com <${"x".repeat(200)}> & more`;
  return incidentOf(
    grantSignal("huge", {
      key: `secret.migration:${"a".repeat(300)}`,
      kind: "secret.migration",
      severity: "critical",
      summary: `${"Old secret still in use by 400 grants; ".repeat(40)}`,
      details,
      remediation: Array.from(
        { length: 200 },
        (_, i) => `Step ${i}: ${"do the thing & check <this> ".repeat(30)}`,
      ),
      links: Array.from({ length: 40 }, (_, i) => ({
        title: `Link ${i} ${"t".repeat(100)}`,
        url: `https://example.com/${i}`,
      })),
    }),
  );
}
