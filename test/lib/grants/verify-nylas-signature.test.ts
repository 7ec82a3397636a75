/**
 * The signature check on its own: the 64 hex characters of HMAC-SHA256(raw
 * body, webhook secret), read as Nylas's own receiver reads them (nylas/cli
 * webhookserver: trimmed, case-insensitive, optional `sha256=` prefix);
 * anything else — however close — is refused.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signNylasBody, verifyNylasSignature } from "../../../lib/grants/verify-nylas-signature.js";

const SECRET = "whsec_0123456789abcdef";
const BODY = '{"specversion":"1.0","type":"grant.expired","id":"n1","data":{"object":{"grant_id":"g1"}}}';
const SIG = createHmac("sha256", SECRET).update(BODY).digest("hex");

describe("signNylasBody / verifyNylasSignature", () => {
  it("signs as Nylas does: hex HMAC-SHA256 of the raw bytes", () => {
    expect(signNylasBody(BODY, SECRET)).toBe(SIG);
    expect(signNylasBody(Buffer.from(BODY), SECRET)).toBe(SIG);
    expect(SIG).toMatch(/^[0-9a-f]{64}$/);
  });

  it("accepts the exact signature over the exact bytes", () => {
    expect(verifyNylasSignature(BODY, SIG, SECRET)).toBe(true);
    expect(verifyNylasSignature(Buffer.from(BODY), SIG, SECRET)).toBe(true);
  });

  it.each([
    ["upper-cased", SIG.toUpperCase()],
    ["space-padded", ` ${SIG} `],
    ["tab-padded", `\t${SIG}`],
    ["newline-terminated", `${SIG}\n`],
    ["padded with no-break spaces", `\u00a0${SIG}\u00a0`],
    ["sha256= prefixed", `sha256=${SIG}`],
    ["SHA256= prefixed and upper-cased", `SHA256=${SIG.toUpperCase()}`],
  ])("accepts the right signature %s, as Nylas's own receiver does", (_name, header) => {
    expect(verifyNylasSignature(BODY, header, SECRET)).toBe(true);
  });

  it.each([
    ["missing", null],
    ["undefined", undefined],
    ["empty", ""],
    ["sha256= alone", "sha256="],
    ["prefixed twice", `sha256=sha256=${SIG}`],
    ["upper-cased, one digit changed", `${SIG.slice(0, -1)}${SIG.endsWith("0") ? "1" : "0"}`.toUpperCase()],
    ["truncated", SIG.slice(0, 63)],
    ["extended", `${SIG}0`],
    ["one hex digit changed", `${SIG.slice(0, -1)}${SIG.endsWith("0") ? "1" : "0"}`],
    ["two signatures joined", `${SIG}, ${SIG}`],
    ["base64", createHmac("sha256", SECRET).update(BODY).digest("base64")],
    ["of another secret", signNylasBody(BODY, `${SECRET}x`)],
    ["of another body", signNylasBody(`${BODY} `, SECRET)],
  ])("refuses a signature that is %s", (_name, header) => {
    expect(verifyNylasSignature(BODY, header, SECRET)).toBe(false);
  });

  it("refuses the right signature over a body with any single byte changed", () => {
    for (let i = 0; i < BODY.length; i += 7) {
      const bytes = Buffer.from(BODY);
      bytes[i] = bytes[i]! ^ 0x01;
      expect(verifyNylasSignature(bytes, SIG, SECRET)).toBe(false);
    }
  });
});
