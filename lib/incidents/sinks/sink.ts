/**
 * The seam between the outbox and the four alert sinks. A sink is a pure formatter
 * (notification → HTTP request) plus a few facts the outbox needs to send it;
 * `sendToSink` is the one send function, built on `httpRequest` (timeouts,
 * bounded retries, Retry-After) with the sinks' transient predicate of the one
 * retry policy (clients/retry.ts).
 */
import { httpRequest, type HttpResponse } from "../../clients/http.js";
import { isTransientSink, type RetryPolicy } from "../../clients/retry.js";
import type { Clock } from "../../clock.js";
import type { HttpError, Service } from "../../errors.js";
import { outputRedactor } from "../../redaction.js";
import type { Notification, SinkName } from "../incident.js";

export interface FormatContext {
  /** Stable across retries of the same (notification, sink): receivers de-duplicate on it. */
  deliveryId: string;
  sentAt: Date;
}

export interface FormattedRequest {
  url: string;
  headers: Record<string, string>;
  /** The raw body, exactly as sent (and as signed, for the generic webhook). */
  body: string;
}

export interface Sink {
  readonly name: SinkName;
  readonly service: Service;
  /** Values that must never reach a log line or stored error: the URL and its path token, routing key, signing secret. */
  readonly secrets: readonly string[];
  /** Whether sending the same delivery twice is harmless (PagerDuty dedup_key; the webhook's delivery id). */
  readonly idempotent: boolean;
  /** How many of its notifications may be in flight at once (Slack allows about one message a second per webhook). */
  readonly maxConcurrency: number;
  /** Pure: no IO, no clock. Throws TypeError for a notification this sink cannot represent. */
  format(notification: Notification, context: FormatContext): FormattedRequest;
  /** Extra words for the log about a refused delivery (PagerDuty's `errors` array). Never echoes a secret. */
  explainFailure?(error: HttpError): string | undefined;
}

export interface SendOptions {
  clock: Clock;
  fetch?: typeof fetch;
  abort?: AbortSignal;
  /** Per attempt. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/**
 * Statuses that mean "this message will never be accepted" (malformed, too large):
 * retrying cannot help. 401/403/404/410 are not here: they mean a wrong or revoked
 * URL/key, which the operator can fix while the delivery waits.
 */
export function isPermanentStatus(status: number): boolean {
  return status === 400 || status === 413 || status === 422;
}

/** Formats and POSTs one notification to one sink. Resolves on 2xx; throws HttpError otherwise. */
export async function sendToSink(
  sink: Sink,
  notification: Notification,
  context: FormatContext,
  options: SendOptions,
): Promise<HttpResponse> {
  // The alert side of the redaction choke point: the incident's words, never the sink's own
  // credential (PagerDuty's routing_key belongs in its body), so redact before formatting.
  const request = sink.format(outputRedactor.redactValue(notification), context);
  return httpRequest(
    {
      service: sink.service,
      method: "POST",
      url: request.url,
      headers: request.headers,
      body: request.body,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      transient: isTransientSink,
      idempotent: sink.idempotent,
      abort: options.abort,
      // Slack/Teams/webhook URLs carry their credential in the path: errors name the host only.
      secretUrl: true,
    },
    { clock: options.clock, fetch: options.fetch },
  );
}

/** Removes every secret of `sink` from `text` (errors go to logs and to state). */
export function scrub(sink: Sink, text: string): string {
  let out = outputRedactor.redact(text);
  for (const secret of sink.secrets) if (secret.length >= 6) out = out.split(secret).join("[REDACTED]");
  return out;
}

/** The URL and its path+query: either may show up in an error text on its own. */
export function urlSecrets(url: string): string[] {
  const secrets = [url];
  try {
    const u = new URL(url);
    const tail = `${u.pathname}${u.search}`;
    if (tail.length >= 8) secrets.push(tail);
    // Each long path segment alone too (Slack's T…/B…/token): a log might show one.
    for (const segment of u.pathname.split("/")) if (segment.length >= 12) secrets.push(segment);
    for (const value of u.searchParams.values()) if (value.length >= 12) secrets.push(value);
  } catch {
    // Not a URL: the whole string is the secret.
  }
  return secrets;
}

/**
 * A chat webhook whose URL is the credential (Slack incoming webhooks, Teams
 * Workflows): one JSON document per notification, sent one at a time, and not
 * idempotent (a repeat posts a second message).
 */
export function chatWebhookSink(
  name: "slack" | "teams",
  url: string,
  message: (notification: Notification) => unknown,
): Sink {
  return {
    name,
    service: name,
    secrets: urlSecrets(url),
    idempotent: false,
    maxConcurrency: 1,
    format(notification): FormattedRequest {
      return {
        url,
        headers: { "content-type": "application/json; charset=utf-8", "user-agent": "secret-watchdog" },
        body: JSON.stringify(message(notification)),
      };
    },
  };
}
