/**
 * A hand-written check of the application shape a tenant-wide scan reads
 * thousands of times (`$select=id,appId,displayName,passwordCredentials`),
 * ahead of the zod schema in graph-schemas.ts. zod validated a 50k-app scan's
 * apps in about a tenth of its time, plus the garbage of its intermediate
 * objects (bench/RESULTS.md, "scan, time").
 *
 * It only ever says yes to what the zod schema accepts, and builds the same
 * value `parseApplication` builds from zod's output. Anything it is not sure
 * of — a field of the wrong type, an unparseable date, the redirect or
 * permission properties this check does not know — is `undefined`: zod then
 * decides and words the error. test/lib/clients/quick-application.test.ts
 * compares both on thousands of variants of an answer.
 */
import { isDateText, isOptionalText, isRecord } from "../util/json-guards.js";
import type { GraphApplication, KeyCredential, PasswordCredential } from "./graph-types.js";

/** The application's properties this check builds itself; present and not null, they go to zod. */
const LEFT_TO_ZOD = ["web", "spa", "publicClient", "requiredResourceAccess"] as const;

/**
 * Every property the value below is built from. An app that has no other (what a scan's `$select`
 * brings back) is built as one object literal: copying "the rest" through a rest and a spread cost
 * a scan a new object and a property-by-property copy per app, and more for the GC to move.
 */
const BUILT_FROM = new Set<string>([
  "id",
  "appId",
  "displayName",
  "passwordCredentials",
  "keyCredentials",
  "signInAudience",
  ...LEFT_TO_ZOD,
]);

function onlyBuiltFrom(raw: Record<string, unknown>): boolean {
  for (const name in raw) if (!BUILT_FROM.has(name)) return false;
  return true;
}

/** `z.optional(z.nullable(z.string()))`: the value as `?? null` reads it, or false when it is not one. */
function optionalText(value: unknown): string | null | false {
  return isOptionalText(value) ? (value ?? null) : false;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function optionalDate(value: unknown): string | null | false {
  if (value === undefined || value === null) return null;
  return isDateText(value) ? value : false;
}

function password(item: unknown): PasswordCredential | undefined {
  if (!isRecord(item) || !nonEmpty(item.keyId) || !isDateText(item.endDateTime)) return undefined;
  const displayName = optionalText(item.displayName);
  const hint = optionalText(item.hint);
  const startDateTime = optionalDate(item.startDateTime);
  if (displayName === false || hint === false || startDateTime === false) return undefined;
  return { keyId: item.keyId, displayName, hint, startDateTime, endDateTime: item.endDateTime };
}

function key(item: unknown): KeyCredential | undefined {
  if (!isRecord(item) || !nonEmpty(item.keyId) || !isDateText(item.endDateTime)) return undefined;
  const displayName = optionalText(item.displayName);
  const startDateTime = optionalDate(item.startDateTime);
  const type = optionalText(item.type);
  const usage = optionalText(item.usage);
  if (displayName === false || startDateTime === false || type === false || usage === false) return undefined;
  return { keyId: item.keyId, displayName, startDateTime, endDateTime: item.endDateTime, type, usage };
}

/** A credential list: required when selected (absent or null is unreadable), else optional but never null. */
function list<T>(value: unknown, selected: boolean, read: (item: unknown) => T | undefined): T[] | undefined {
  if (value === undefined) return selected ? undefined : [];
  if (!Array.isArray(value)) return undefined;
  const out: T[] = [];
  for (const item of value) {
    const read1 = read(item);
    if (read1 === undefined) return undefined;
    out.push(read1);
  }
  return out;
}

/** The application as `parseApplication` would return it, or undefined to let zod decide. */
export function quickApplication(raw: unknown, select: readonly string[]): GraphApplication | undefined {
  if (!isRecord(raw) || !nonEmpty(raw.id) || !nonEmpty(raw.appId)) return undefined;
  // JSON.parse makes "__proto__" an own key; zod's looseObject leaves it out of what it builds.
  if (Object.hasOwn(raw, "__proto__")) return undefined;
  for (const name of LEFT_TO_ZOD) if (raw[name] !== undefined && raw[name] !== null) return undefined;
  const displayName = optionalText(raw.displayName);
  const signInAudience = optionalText(raw.signInAudience);
  if (displayName === false || signInAudience === false) return undefined;
  const passwordCredentials = list(raw.passwordCredentials, select.includes("passwordCredentials"), password);
  const keyCredentials = list(raw.keyCredentials, select.includes("keyCredentials"), key);
  if (passwordCredentials === undefined || keyCredentials === undefined) return undefined;
  const app = { id: raw.id, appId: raw.appId, displayName, passwordCredentials, keyCredentials };
  const built = signInAudience === null ? app : { ...app, signInAudience };
  if (onlyBuiltFrom(raw)) return built;
  // Properties nobody checks pass through, as zod's looseObject passes them.
  // (web, spa, publicClient and requiredResourceAccess are null or absent here: null is dropped, as there.)
  const {
    web: _web,
    spa: _spa,
    publicClient: _public,
    requiredResourceAccess: _access,
    signInAudience: _audience,
    ...rest
  } = raw;
  return { ...rest, ...built };
}
