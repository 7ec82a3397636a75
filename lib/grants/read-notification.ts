/**
 * From the raw bytes of a POST to the grant event it carries, or the answer
 * that refuses it: the signature over the bytes as sent first, then gzip
 * (bounded), then JSON and the envelope. A parser never sees a forged body.
 * Test events and deliveries too old to be de-duplicated are acknowledged and
 * do nothing.
 */
// zod/mini: the same validators as `zod` (one core), but tree-shakable — the classic `z` namespace
// costs ~40 ms of every Function cold start, this ~5 ms (bench/RESULTS.md, "cold start").
import * as z from "zod/mini";
import { gunzipSync } from "node:zlib";
import { DAY_MS } from "../clock.js";
import { NYLAS_ID } from "../clients/nylas-schemas.js";
import { verifyNylasSignature } from "./verify-nylas-signature.js";
import type { GrantEvent } from "./process-grant-event.js";

/** How long accepted notification ids are remembered (the sweep purges older ones): older deliveries are stale. */
export const STALE_DELIVERY_MS = 7 * DAY_MS;

/** Nylas's payload limit is 1 MB; anything larger is not from Nylas. */
export const MAX_BODY_BYTES = 1024 * 1024;

export const GRANT_EVENT_TYPES = [
  "grant.expired",
  "grant.updated",
  "grant.created",
  "grant.deleted",
] as const;

/** A body that carries no event to process: the answer, and the line to log about it. */
export interface Refusal {
  status: number;
  body: Record<string, unknown>;
  log?: { level: "info" | "warn"; message: string };
}

// Optional fields may arrive as null (Nylas sends `"email": null` for some grants): null = absent.
const Envelope = z.object({
  id: z.string().check(z.regex(NYLAS_ID)),
  type: z.string().check(z.minLength(1), z.maxLength(128)),
  time: z.optional(z.nullable(z.number())),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const GrantObject = z.object({
  grant_id: z.string().check(z.regex(NYLAS_ID)),
  provider: z.optional(z.nullable(z.string().check(z.maxLength(64)))),
  email: z.optional(z.nullable(z.string().check(z.maxLength(320)))),
  grant_updated_at: z.optional(z.nullable(z.number())),
});

/**
 * What Nylas's "send test event" delivers (POST /v3/webhooks/send-test-event):
 * a mock notification for a grant that does not exist. Acknowledged, never an incident.
 */
const TEST_EVENT_IDS = new Set(["mock-id"]);
const TEST_GRANT_IDS = new Set(["NYLAS_GRANT_ID", "<NYLAS_GRANT_ID>"]);

/**
 * Nylas signs what "send test event" delivers with a fixed secret (API reference,
 * send-test-event: "The secret used is `mock-webhook-secret`"), not the
 * destination's. Such a body is acknowledged — it can only ever be a test
 * event, which does nothing — so a test from the dashboard shows success.
 */
const TEST_EVENT_SECRET = "mock-webhook-secret";

function isSignedTestEvent(raw: Buffer, encoding: string, header: string | null): boolean {
  if (!verifyNylasSignature(raw, header, TEST_EVENT_SECRET)) return false;
  const decoded = decodeBody(raw, encoding);
  if ("reject" in decoded) return false;
  try {
    const envelope = Envelope.parse(JSON.parse(decoded.body.toString("utf8")));
    const grantId = envelope.data.object.grant_id;
    return TEST_EVENT_IDS.has(envelope.id) || (typeof grantId === "string" && TEST_GRANT_IDS.has(grantId));
  } catch {
    return false;
  }
}

type Decoded = { body: Buffer } | { reject: { status: number; body: Record<string, unknown> } };

/** The JSON bytes of a verified body: as sent, or inflated from gzip (bounded, so a zip bomb is refused). */
function decodeBody(raw: Buffer, encoding: string): Decoded {
  if (encoding === "" || encoding === "identity") return { body: raw };
  try {
    return { body: gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES }) };
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
      return { reject: { status: 413, body: { error: "payload too large once decompressed" } } };
    return { reject: { status: 400, body: { error: "invalid gzip body" } } };
  }
}

export interface ReadOptions {
  /** Content-Encoding, trimmed and lower-cased: "", "identity", "gzip" or "x-gzip". */
  encoding: string;
  /** The `x-nylas-signature` header. */
  signature: string | null;
  /** NYLAS_WEBHOOK_SECRET. */
  secret: string;
  nowMs: number;
}

export function readNotification(raw: Buffer, options: ReadOptions): { event: GrantEvent } | Refusal {
  const { encoding, signature } = options;
  // The signature covers the bytes as sent: the gzip bytes of a compressed delivery.
  if (!verifyNylasSignature(raw, signature, options.secret)) {
    if (isSignedTestEvent(raw, encoding, signature))
      return refuse(200, { status: "test" }, "info", TEST_ACKNOWLEDGED);
    return refuse(401, { error: "invalid signature" }, "warn", BAD_SIGNATURE);
  }
  const decoded = decodeBody(raw, encoding);
  if ("reject" in decoded) {
    const { status, body } = decoded.reject;
    return refuse(status, body, "warn", `nylasWebhook: a signed body could not be decompressed (${status})`);
  }
  let envelope: z.infer<typeof Envelope>;
  try {
    envelope = Envelope.parse(JSON.parse(decoded.body.toString("utf8")));
  } catch {
    return refuse(400, { error: "invalid notification body" }, "warn", NOT_A_NOTIFICATION);
  }
  return grantEventOf(envelope, options.nowMs);
}

function grantEventOf(envelope: z.infer<typeof Envelope>, nowMs: number): { event: GrantEvent } | Refusal {
  if (!(GRANT_EVENT_TYPES as readonly string[]).includes(envelope.type))
    return { status: 200, body: { status: "ignored", type: envelope.type } };
  const object = GrantObject.safeParse(envelope.data.object);
  if (!object.success) return { status: 400, body: { error: "grant notification without grant_id" } };
  if (TEST_EVENT_IDS.has(envelope.id) || TEST_GRANT_IDS.has(object.data.grant_id)) {
    const message = `nylasWebhook: test event ${envelope.type} acknowledged; nothing raised`;
    return refuse(200, { status: "test", type: envelope.type }, "info", message);
  }
  // Duplicates are recognised for EVENT_RETENTION (7 days); a delivery older than that could be a captured
  // one replayed after its record was purged. Nylas retries for minutes, not days: acknowledge, raise nothing.
  const sentAt = envelope.time ?? undefined;
  if (sentAt !== undefined && nowMs - sentAt * 1000 > STALE_DELIVERY_MS) {
    const message = `nylasWebhook: ${envelope.type} ${envelope.id} was sent at ${new Date(sentAt * 1000).toISOString()}, longer ago than duplicates are remembered; acknowledged, nothing raised`;
    return refuse(200, { status: "stale" }, "warn", message);
  }
  return {
    event: {
      id: envelope.id,
      type: envelope.type as GrantEvent["type"],
      grantId: object.data.grant_id,
      provider: object.data.provider ?? "unknown",
      email: object.data.email ?? undefined,
      grantUpdatedAt: object.data.grant_updated_at ?? undefined,
      time: envelope.time ?? undefined,
    },
  };
}

const TEST_ACKNOWLEDGED =
  "nylasWebhook: Nylas test event (signed with the documented mock secret) acknowledged";
const BAD_SIGNATURE = "nylasWebhook: rejected a POST with a missing or invalid x-nylas-signature";
const NOT_A_NOTIFICATION = "nylasWebhook: signed body is not a Nylas notification (invalid JSON or envelope)";

function refuse(
  status: number,
  body: Record<string, unknown>,
  level: "info" | "warn",
  message: string,
): Refusal {
  return { status, body, log: { level, message } };
}
