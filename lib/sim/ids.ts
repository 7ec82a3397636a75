/**
 * Identifiers and secret values in the shapes the real services use, so that
 * code under test that checks formats (a GUID, a 40-character secret) meets
 * the same strings it will meet in production.
 */
import { randomBytes, randomUUID } from "node:crypto";

/** A random RFC 4122 v4 GUID, the shape of every Entra object id and keyId. */
export function newGuid(): string {
  return randomUUID();
}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a GUID (any version), case-insensitively. */
export function isGuid(value: string): boolean {
  return GUID_RE.test(value);
}

/** Unpadded base64url, as JWTs use. */
export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// Characters Entra uses in generated client secrets (after the "Q~" marker).
const SECRET_TAIL = `${ALNUM}_~.-`;

// Random bytes drawn from a pool: one randomBytes() call per string is what made
// seeding 50,000 secrets slow. The modulo bias is irrelevant for simulated values.
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomByte(): number {
  if (poolOffset >= pool.length) {
    pool = randomBytes(16_384);
    poolOffset = 0;
  }
  return pool[poolOffset++] ?? 0;
}

function pick(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomByte() % alphabet.length] ?? "";
  return out;
}

/**
 * A client secret value shaped like Entra's: 40 characters, three
 * alphanumerics, a digit, the "Q~" marker, then 34 characters from
 * `[A-Za-z0-9_~.-]` (e.g. `abc8Q~…`). The first three are the `hint`.
 */
export function newSecretText(): string {
  return `${pick(ALNUM, 3)}${randomByte() % 10}Q~${pick(SECRET_TAIL, 34)}`;
}

/** Lower-case alphanumeric id of `length` characters (Nylas webhook ids, auth codes). */
export function newToken(length: number): string {
  return pick("abcdefghijklmnopqrstuvwxyz0123456789", length);
}

/** Hex string of `bytes` random bytes. */
export function newHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/**
 * One request id per request, made on first use: every response to that
 * request (and its log line) carries the same one, as the real services' do.
 */
export function requestIdsPerRequest<R extends object>(): (request: R) => string {
  const ids = new WeakMap<R, string>();
  return (request) => {
    let id = ids.get(request);
    if (id === undefined) {
      id = newGuid();
      ids.set(request, id);
    }
    return id;
  };
}
