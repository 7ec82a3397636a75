/**
 * What on-call is told about, as data. Passes observe Signals; the IncidentManager
 * (`incident-manager.ts`) turns them into Incidents and Notifications; sinks only
 * format Notifications (`../shared/ARCHITECTURE.md`: "Sinks format; incidents decide").
 */

export type Severity = "critical" | "warning" | "info";

export type IncidentKind =
  | "grant.invalid"
  | "secret.expiring"
  | "secret.migration"
  | "rotation.failed"
  | "rotation.succeeded"
  | (string & {});

/** Facts about an incident: email, grant id, provider, days left… Never a secret value. */
export type Details = Record<string, string | number | boolean | null>;

export interface Link {
  title: string;
  url: string;
}

export interface Incident {
  /** Stable identity: "grant.invalid:<grant_id>", "secret.expiring:<appId>:<keyId>", "secret.migration:<appId>". */
  key: string;
  kind: IncidentKind;
  severity: Severity;
  status: "firing" | "resolved";
  /** One line, for titles. */
  summary: string;
  details: Details;
  /** Steps that fix it, in order. */
  remediation: string[];
  links: Link[];
  /** ISO 8601. `firstSeen` is when this occurrence opened (a re-opened incident starts over). */
  firstSeen: string;
  lastChanged: string;
  lastNotified: string | null;
  resolvedAt: string | null;
  /** Notifications enqueued for this occurrence (trigger, repeats, resolve). */
  notifications: number;
  resolveNote?: string;
}

/** What a pass observes and hands to `IncidentManager.raise`: raise a new incident or refresh an open one. */
export interface Signal {
  key: string;
  kind: IncidentKind;
  severity: Severity;
  summary: string;
  details: Details;
  remediation: string[];
  links: Link[];
}

/** The sinks the product can deliver to (`SinkConfig`). */
export type SinkName = "webhook" | "slack" | "teams" | "pagerduty";

export const SINK_NAMES: readonly SinkName[] = ["webhook", "slack", "teams", "pagerduty"];

/** A re-authentication request for one grant (generic webhook event `grant.reauth_requested`). */
export interface ReauthRequest {
  grantId: string;
  email: string;
  /** ISO 8601: when the grant stops working unless its user re-authenticates (the old secret's expiry). */
  deadline: string;
  /** Hosted-auth link with `login_hint`, when NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI are set. */
  reauthUrl?: string;
}

export type AnnouncementEvent = "grant.reauth_requested" | "rotation.succeeded" | (string & {});

/**
 * A one-shot notification that is not an incident (nothing to repeat or resolve):
 * "rotation succeeded", "please re-authenticate grant X".
 */
export interface Announcement {
  event: AnnouncementEvent;
  /**
   * Chosen by the caller so that re-running the same pass does not announce twice,
   * e.g. `reauth:<rotationId>:<grantId>`.
   */
  idempotencyKey: string;
  severity: Severity;
  summary: string;
  details: Details;
  remediation?: string[];
  links?: Link[];
  /** Required for `grant.reauth_requested`. */
  grant?: ReauthRequest;
  /**
   * Where to send it. Default: the generic webhook only for `grant.reauth_requested`
   * (one per user: the application emails them), else webhook, Slack and Teams.
   * PagerDuty only ever receives incidents.
   */
  sinks?: SinkName[];
}

export type IncidentEvent = "incident.triggered" | "incident.repeated" | "incident.resolved";

/** One thing to tell every (routed) sink once. Stored in the outbox until each sink took it. */
export type Notification = IncidentNotification | AnnouncementNotification;

export interface IncidentNotification {
  type: "incident";
  /** Unique and stable: `<incident key>@<sequence>`; delivery ids derive from it. */
  id: string;
  /** Order among the notifications of one incident key, increasing across re-openings. */
  seq: number;
  event: IncidentEvent;
  /** ISO 8601. */
  createdAt: string;
  /** The incident as it was when the notification was decided. */
  incident: Incident;
  sinks: SinkName[];
}

export interface AnnouncementNotification {
  type: "announcement";
  id: string;
  event: AnnouncementEvent;
  createdAt: string;
  announcement: Omit<Announcement, "sinks">;
  sinks: SinkName[];
}

/** Higher is more severe. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

/** True when `to` is more severe than `from` (warning → critical). */
export function isEscalation(from: Severity, to: Severity): boolean {
  return SEVERITY_RANK[to] > SEVERITY_RANK[from];
}

/** The key that orders a notification's deliveries (all notifications of one incident go out in order). */
export function orderKeyOf(notification: Notification): string {
  return notification.type === "incident"
    ? notification.incident.key
    : `announce:${notification.announcement.idempotencyKey}`;
}
