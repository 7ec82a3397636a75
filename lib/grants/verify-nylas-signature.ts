/**
 * Nylas signs every notification: `x-nylas-signature` is the hex HMAC-SHA256 of
 * the exact raw body, keyed with the webhook's secret
 * (developer.nylas.com/docs/cookbook/use-cases/build/verify-webhook-signatures).
 * Verify the raw bytes before parsing anything: a parser must never see a
 * forged body. For a compressed delivery the raw bytes are the gzip bytes
 * (Nylas API reference, "Payload compression": verify "against the raw
 * compressed body before decompressing").
 */
import { createHmac } from "node:crypto";
import { timingSafeEqual } from "../util/timing-safe-equal.js";

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The signature Nylas would send for `rawBody`. Tests sign fixtures with it, as Nylas does. */
export function signNylasBody(rawBody: Buffer | string, secret: string): string {
  return createHmac("sha256", secret).update(rawBody).digest("hex");
}

/**
 * The header as Nylas's own receiver reads it (nylas/cli, webhookserver
 * `NormalizeSignature`): surrounding white space trimmed, lower-cased, an
 * optional `sha256=` prefix dropped. Anything that is then not 64 hex digits
 * is not a signature.
 */
function normalize(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  const digest = value.startsWith("sha256=") ? value.slice("sha256=".length) : value;
  return HEX_SHA256.test(digest) ? digest : undefined;
}

/** True only for a well-formed signature of exactly these bytes, compared in constant time. */
export function verifyNylasSignature(
  rawBody: Buffer | string,
  header: string | null | undefined,
  secret: string,
): boolean {
  if (header === null || header === undefined) return false;
  const digest = normalize(header);
  if (digest === undefined) return false;
  return timingSafeEqual(signNylasBody(rawBody, secret), digest);
}
