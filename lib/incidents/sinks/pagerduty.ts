/**
 * PagerDuty Events API v2: one alert per incident key (`dedup_key`), triggered
 * once, re-triggered on repeats (PagerDuty de-duplicates), resolved when fixed.
 * https://developer.pagerduty.com/docs/send-alert-event
 */
import { createHash } from "node:crypto";
import type { HttpError } from "../../errors.js";
import type { IncidentNotification, Notification, Severity } from "../incident.js";
import { isWebUrl, plainText, truncateAtWord } from "./render.js";
import type { FormattedRequest, Sink } from "./sink.js";

export const PAGERDUTY_LIMITS = { dedupKey: 255, summary: 1024, detailValue: 1024, details: 100 } as const;

export type PagerDutySeverity = "critical" | "error" | "warning" | "info";

export interface PagerDutyTrigger {
  routing_key: string;
  event_action: "trigger";
  dedup_key: string;
  payload: {
    summary: string;
    source: "secret-watchdog";
    severity: PagerDutySeverity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: { href: string; text: string }[];
  client: "secret-watchdog";
}

export interface PagerDutyResolve {
  routing_key: string;
  event_action: "resolve";
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve;

const SEVERITY: Record<Severity, PagerDutySeverity> = {
  critical: "critical",
  warning: "warning",
  info: "info",
};

export function pagerDutySeverity(severity: Severity): PagerDutySeverity {
  return SEVERITY[severity];
}

/**
 * The incident key, or — past PagerDuty's 255 characters — a prefix of it plus a
 * SHA-256 of the whole key, so trigger, repeat and resolve always agree.
 */
export function pagerDutyDedupKey(incidentKey: string): string {
  if (incidentKey.length <= PAGERDUTY_LIMITS.dedupKey) return incidentKey;
  const hash = createHash("sha256").update(incidentKey).digest("hex");
  return `${incidentKey.slice(0, PAGERDUTY_LIMITS.dedupKey - hash.length - 1)}~${hash}`;
}

const COMPONENT: Record<string, string> = {
  grant: "nylas-grant",
  secret: "entra-client-secret",
  rotation: "secret-rotation",
};

/** Pure: the Events API v2 body for an incident notification. Announcements never page. */
export function formatPagerDutyEvent(notification: Notification, routingKey: string): PagerDutyEvent {
  if (notification.type !== "incident") {
    throw new TypeError(`PagerDuty receives incidents only, not "${notification.event}" announcements.`);
  }
  const incident = notification.incident;
  const dedupKey = pagerDutyDedupKey(incident.key);
  if (notification.event === "incident.resolved") {
    return { routing_key: routingKey, event_action: "resolve", dedup_key: dedupKey };
  }
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: {
      // Plain text on PagerDuty's side (no markup to escape); cut at a word, within the documented 1024.
      summary: truncateAtWord(plainText(incident.summary), PAGERDUTY_LIMITS.summary),
      source: "secret-watchdog",
      severity: pagerDutySeverity(incident.severity),
      timestamp: incident.lastChanged,
      component: COMPONENT[incident.kind.split(".")[0] ?? ""] ?? incident.kind,
      group: "nylas-microsoft-connector",
      class: incident.kind,
      custom_details: customDetails(notification),
    },
    links: incident.links.filter((l) => isWebUrl(l.url)).map((l) => ({ href: l.url, text: l.title })),
    client: "secret-watchdog",
  };
}

function customDetails(notification: IncidentNotification): Record<string, unknown> {
  const incident = notification.incident;
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(incident.details).slice(0, PAGERDUTY_LIMITS.details)) {
    details[k] = typeof v === "string" ? truncateAtWord(v, PAGERDUTY_LIMITS.detailValue) : v;
  }
  return {
    ...details,
    incident_key: incident.key,
    event: notification.event,
    first_seen: incident.firstSeen,
    notification: incident.notifications,
    remediation: incident.remediation.map((s) => truncateAtWord(s, PAGERDUTY_LIMITS.detailValue)),
  };
}

/** PagerDuty answers a refused event with `{ message, errors: [...] }`: worth a log line. */
export function explainPagerDutyFailure(error: HttpError): string | undefined {
  if (error.body === undefined) return undefined;
  try {
    const parsed = JSON.parse(error.body) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(parsed.errors) ? parsed.errors.map(String) : [];
    const message = typeof parsed.message === "string" ? parsed.message : "";
    const text = [message, ...errors].filter((s) => s !== "").join("; ");
    return text === "" ? undefined : `PagerDuty said: ${text}`;
  } catch {
    // A body cut at 500 characters or an HTML error page: nothing structured to add.
    return undefined;
  }
}

/** A PagerDuty Events API v2 sink. The routing key is the credential: it is never logged. */
export function createPagerDutySink(options: { routingKey: string; eventsUrl: string }): Sink {
  return {
    name: "pagerduty",
    service: "pagerduty",
    secrets: [options.routingKey],
    // dedup_key makes a repeated trigger or resolve harmless.
    idempotent: true,
    maxConcurrency: 2,
    format(notification): FormattedRequest {
      return {
        url: options.eventsUrl,
        headers: { "content-type": "application/json", "user-agent": "secret-watchdog" },
        body: JSON.stringify(formatPagerDutyEvent(notification, options.routingKey)),
      };
    },
    explainFailure: explainPagerDutyFailure,
  };
}
