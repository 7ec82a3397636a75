/**
 * The generic JSON webhook: a documented, versioned body (`alert-schema.v1.json`,
 * `"schema": "secret-watchdog.alert/v1"`) that applications consume — among others
 * to email each user their re-authentication link (`grant.reauth_requested`).
 *
 * With ALERT_WEBHOOK_SECRET every delivery carries
 * `X-Watchdog-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (CONTRACT.md).
 * The timestamp is inside the signed body (`sent_at`) so receivers can reject
 * replays, and `delivery_id` lets them drop a retried duplicate.
 *
 * Text fields (summary, details, remediation) are data, not markup: they carry
 * tenant-controlled words (app names, emails, service errors) byte for byte,
 * and a receiver that renders them escapes them for its own markup.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Details, IncidentEvent, Link, Notification, Severity } from "../incident.js";
import { urlSecrets, type FormatContext, type FormattedRequest, type Sink } from "./sink.js";

export const ALERT_SCHEMA_V1 = "secret-watchdog.alert/v1";

export const WATCHDOG_HEADERS = {
  signature: "x-watchdog-signature",
  delivery: "x-watchdog-delivery",
  timestamp: "x-watchdog-timestamp",
  event: "x-watchdog-event",
} as const;

export interface WebhookIncidentBody {
  schema: typeof ALERT_SCHEMA_V1;
  delivery_id: string;
  event: IncidentEvent;
  sent_at: string;
  incident: {
    key: string;
    kind: string;
    status: "firing" | "resolved";
    severity: Severity;
    summary: string;
    details: Details;
    remediation: string[];
    links: Link[];
    first_seen: string;
    last_changed: string;
    resolved_at: string | null;
    resolve_note: string | null;
    notifications: number;
  };
}

export interface WebhookAnnouncementBody {
  schema: typeof ALERT_SCHEMA_V1;
  delivery_id: string;
  event: string;
  sent_at: string;
  announcement: {
    key: string;
    severity: Severity;
    summary: string;
    details: Details;
    remediation: string[];
    links: Link[];
  };
  /** Present exactly for `grant.reauth_requested`. */
  grant?: { grant_id: string; email: string; deadline: string; reauth_url?: string };
}

export type WebhookBody = WebhookIncidentBody | WebhookAnnouncementBody;

/** Pure: the v1 body of a notification. */
export function formatWebhookBody(notification: Notification, context: FormatContext): WebhookBody {
  const base = {
    schema: ALERT_SCHEMA_V1,
    delivery_id: context.deliveryId,
    sent_at: context.sentAt.toISOString(),
  } as const;
  if (notification.type === "incident") {
    const i = notification.incident;
    return {
      ...base,
      event: notification.event,
      incident: {
        key: i.key,
        kind: i.kind,
        status: i.status,
        severity: i.severity,
        summary: i.summary,
        details: i.details,
        remediation: i.remediation,
        links: i.links,
        first_seen: i.firstSeen,
        last_changed: i.lastChanged,
        resolved_at: i.resolvedAt,
        resolve_note: i.resolveNote ?? null,
        notifications: i.notifications,
      },
    };
  }
  const a = notification.announcement;
  const body: WebhookAnnouncementBody = {
    ...base,
    event: notification.event,
    announcement: {
      key: a.idempotencyKey,
      severity: a.severity,
      summary: a.summary,
      details: a.details,
      remediation: a.remediation ?? [],
      links: a.links ?? [],
    },
  };
  if (a.grant !== undefined) {
    body.grant = {
      grant_id: a.grant.grantId,
      email: a.grant.email,
      deadline: a.grant.deadline,
      ...(a.grant.reauthUrl === undefined ? {} : { reauth_url: a.grant.reauthUrl }),
    };
  }
  return body;
}

/** `sha256=<hex HMAC-SHA256 of rawBody>`. */
export function signWatchdogBody(rawBody: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

/**
 * For receivers (and tests): does `header` carry the signature of exactly these
 * bytes? Verify the raw body before parsing it. Constant-time.
 */
export function verifyWatchdogSignature(
  rawBody: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
): boolean {
  if (header === null || header === undefined || secret === "") return false;
  const expected = Buffer.from(signWatchdogBody(rawBody, secret));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The generic webhook sink; `secret` (optional) signs every body. */
export function createWebhookSink(options: { url: string; secret?: string | undefined }): Sink {
  const { url, secret } = options;
  return {
    name: "webhook",
    service: "webhook",
    secrets: [...urlSecrets(url), ...(secret === undefined ? [] : [secret])],
    // Receivers de-duplicate on delivery_id, so a retry after a timeout is harmless.
    idempotent: true,
    maxConcurrency: 4,
    format(notification, context): FormattedRequest {
      const body = JSON.stringify(formatWebhookBody(notification, context));
      const headers: Record<string, string> = {
        "content-type": "application/json; charset=utf-8",
        "user-agent": "secret-watchdog",
        [WATCHDOG_HEADERS.delivery]: context.deliveryId,
        [WATCHDOG_HEADERS.timestamp]: String(Math.floor(context.sentAt.getTime() / 1000)),
        [WATCHDOG_HEADERS.event]: notification.event,
      };
      if (secret !== undefined && secret !== "")
        headers[WATCHDOG_HEADERS.signature] = signWatchdogBody(body, secret);
      return { url, headers, body };
    },
  };
}
