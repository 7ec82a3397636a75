/**
 * The stored shape of an incident and the pure rules `IncidentManager` applies
 * to it: what a signal changes, whether it is new content, which input is
 * refused. No IO here.
 */
import { createHash } from "node:crypto";
import type { Announcement, Incident, Notification, Signal, Severity } from "./incident.js";

/** The stored value in the `incidents` collection. */
export interface IncidentRecord {
  v: 1;
  incident: Incident;
  /** Notifications ever decided for this key (all occurrences): orders them in the outbox. */
  seq: number;
  /** Decided, not yet copied to the outbox. */
  unsent: Notification[];
  /** This occurrence was sent to PagerDuty (so its resolve goes there too). */
  paged?: boolean;
}

const SEVERITIES: readonly Severity[] = ["critical", "warning", "info"];
/** Keys Azure Table (no / \ # ?) and file names accept as they are; others are hashed. */
const SAFE_KEY = /^[A-Za-z0-9._:@=+-]{1,200}$/;

/** The storage key of an incident key. */
export function incidentStorageKey(key: string): string {
  return SAFE_KEY.test(key) ? key : `h-${createHash("sha256").update(key).digest("hex")}`;
}

/** What a signal sets on its incident. */
export function fieldsOf(
  signal: Signal,
): Pick<Incident, "key" | "kind" | "severity" | "summary" | "details" | "remediation" | "links"> {
  return {
    key: signal.key,
    kind: signal.kind,
    severity: signal.severity,
    summary: signal.summary,
    details: { ...signal.details },
    remediation: [...signal.remediation],
    links: signal.links.map((l) => ({ title: l.title, url: l.url })),
  };
}

/** The signal would change nothing on-call sees. */
export function sameContent(incident: Incident, signal: Signal): boolean {
  return (
    incident.kind === signal.kind &&
    incident.severity === signal.severity &&
    incident.summary === signal.summary &&
    stableJson(incident.details) === stableJson(signal.details) &&
    JSON.stringify(incident.remediation) === JSON.stringify(signal.remediation) &&
    JSON.stringify(incident.links.map((l) => [l.title, l.url])) ===
      JSON.stringify(signal.links.map((l) => [l.title, l.url]))
  );
}

function stableJson(details: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(details)
      .sort()
      .map((k) => [k, details[k]]),
  );
}

export function validateSignal(signal: Signal): void {
  if (signal.key.trim() === "") throw new TypeError("An incident signal needs a non-empty key.");
  if (!SEVERITIES.includes(signal.severity)) {
    throw new TypeError(
      `Incident ${signal.key}: severity "${String(signal.severity)}" is not critical, warning or info.`,
    );
  }
  if (signal.summary.trim() === "") throw new TypeError(`Incident ${signal.key}: the summary is empty.`);
}

export function validateAnnouncement(a: Announcement): void {
  if (a.idempotencyKey.trim() === "")
    throw new TypeError(`Announcement ${a.event}: the idempotency key is empty.`);
  if (a.event.startsWith("incident.")) {
    throw new TypeError(`"${a.event}" is an incident event: use raise/resolve, not announce.`);
  }
  if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/.test(a.event)) {
    throw new TypeError(
      `Announcement event "${a.event}" is not a dotted lower-case name like "rotation.succeeded".`,
    );
  }
  if (!SEVERITIES.includes(a.severity)) throw new TypeError(`Announcement ${a.event}: bad severity.`);
  if (a.event === "grant.reauth_requested" && a.grant === undefined) {
    throw new TypeError("grant.reauth_requested needs `grant` (grant id, email, deadline).");
  }
  if (a.sinks?.includes("pagerduty")) {
    throw new TypeError(`Announcement ${a.event}: PagerDuty only receives incidents; raise one instead.`);
  }
}
