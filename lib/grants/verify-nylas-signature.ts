/**
 * Nylas signs every notification: `x-nylas-signature` is the hex HMAC-SHA256 of
 * the exact raw body, keyed with the webhook's secret
 * (developer.nylas.com/docs/cookbook/use-cases/build/verify-webhook-signatures).
 * Verify the raw bytes before parsing anything: a parser must never see a
 * forged body.
 */
import { createHmac } from "node:crypto";
import { timingSafeEqual } from "../util/timing-safe-equal.js";

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The signature Nylas would send for `rawBody`. Tests sign fixtures with it, as Nylas does. */
export function signNylasBody(rawBody: Buffer | string, secret: string): string {
  return createHmac("sha256", secret).update(rawBody).digest("hex");
}

/**
 * True only for a well-formed, exactly matching signature. The header must be
 * 64 lower-case hex characters as Nylas sends it: padded, upper-cased or
 * truncated values are refused, not normalised.
 */
export function verifyNylasSignature(
  rawBody: Buffer | string,
  header: string | null | undefined,
  secret: string,
): boolean {
  if (header === null || header === undefined || !HEX_SHA256.test(header)) return false;
  return timingSafeEqual(signNylasBody(rawBody, secret), header);
}
