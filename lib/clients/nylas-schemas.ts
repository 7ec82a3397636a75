/**
 * What this product reads from Nylas, as zod schemas: a grant and the
 * Microsoft connector are checked before they are trusted. A grant without
 * `grant_status` is "unknown", never "valid" (fail closed: nothing resolves a
 * grant incident or migrates a grant on a status Nylas did not state).
 */
import * as z from "zod/mini";
import { isOptionalText, isRecord } from "../util/json-guards.js";
import { malformedAnswer, parseAnswer } from "./answer.js";
import type { NylasGrant } from "./nylas-types.js";

/**
 * Ids as Nylas issues them (grants, webhooks, notifications). They go into log
 * lines and URL paths, so no control characters, slashes or dots: a grant id
 * of "." would turn `/v3/grants/{id}` into the grant list.
 */
export const NYLAS_ID = /^[A-Za-z0-9_-]{1,256}$/;

/** What `grant_status` reads as when Nylas did not state one. */
export const UNKNOWN_GRANT_STATUS = "unknown";

/** Throws RangeError for an id that must not go into a URL path. */
export function assertGrantId(grantId: string): void {
  if (!NYLAS_ID.test(grantId))
    throw new RangeError(
      `nylas: "${grantId.slice(0, 64)}" is not a Nylas grant id (letters, digits, "-" and "_", at most 256).`,
    );
}

/**
 * A schema built when first used, not at import: building a zod schema runs its constructors, and
 * a command uses one or two of these (a scan only the connector's; `serve` the found grant's).
 * Built at import, all of them took 2.2 ms of every scan's CPU (profiles of a base-tenant scan,
 * 2026-12-02), and of the Function App's cold start, which imports this module for NYLAS_ID.
 */
function onFirstUse<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

const id = () => z.string().check(z.regex(NYLAS_ID));
const text = () => z.optional(z.nullable(z.string()));
const seconds = () => z.number().check(z.refine(Number.isFinite, "not a number of seconds"));

/** A grant as Nylas sends it (snake_case): `GET /v3/grants` pages. */
const wireGrant = onFirstUse(() =>
  z.object({
    id: id(),
    provider: z.string(),
    grant_status: text(),
    email: text(),
    scope: z.optional(z.nullable(z.array(z.string()))),
    created_at: seconds(),
    updated_at: z.optional(z.nullable(seconds())),
    credential_id: text(),
  }),
);

/** The same grant after the SDK renamed its keys to camelCase (`grants.find`). */
const sdkGrant = onFirstUse(() =>
  z.object({
    id: id(),
    provider: z.string(),
    grantStatus: text(),
    email: text(),
    scope: z.optional(z.nullable(z.array(z.string()))),
    createdAt: seconds(),
    updatedAt: z.optional(z.nullable(seconds())),
    credentialId: text(),
  }),
);

function grantOf(g: {
  id: string;
  provider: string;
  status?: string | null | undefined;
  email?: string | null | undefined;
  scope?: string[] | null | undefined;
  createdAt: number;
  updatedAt?: number | null | undefined;
  credentialId?: string | null | undefined;
}): NylasGrant {
  return {
    id: g.id,
    provider: g.provider,
    grantStatus: g.status ?? UNKNOWN_GRANT_STATUS,
    email: g.email ?? undefined,
    scope: g.scope ?? [],
    createdAt: g.createdAt,
    updatedAt: g.updatedAt ?? g.createdAt,
    credentialId: g.credentialId ?? undefined,
  };
}

/** One grant of a `GET /v3/grants` page. */
export function parseWireGrant(raw: unknown, what: string): NylasGrant {
  return quickWireGrant(raw) ?? zodWireGrant(raw, what);
}

const isSeconds = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

const isScope = (value: unknown): value is string[] | null | undefined =>
  value === undefined ||
  value === null ||
  (Array.isArray(value) && value.every((s) => typeof s === "string"));

/**
 * A hand-written check of the wire grant ahead of `WireGrant`, for a sweep that reads grants 200 a
 * page (as quick-application.ts does for Graph's apps): it accepts only what the schema accepts and
 * builds the same grant; anything else is undefined, for zod to decide and word.
 * test/lib/clients/quick-grant.test.ts compares the two.
 */
export function quickWireGrant(raw: unknown): NylasGrant | undefined {
  if (!isRecord(raw)) return undefined;
  const { id, provider, grant_status, email, scope, created_at, updated_at, credential_id } = raw;
  if (typeof id !== "string" || !NYLAS_ID.test(id) || typeof provider !== "string") return undefined;
  if (!isOptionalText(grant_status) || !isOptionalText(email) || !isOptionalText(credential_id))
    return undefined;
  if (!isScope(scope)) return undefined;
  if (!isSeconds(created_at)) return undefined;
  if (!(updated_at === undefined || updated_at === null || isSeconds(updated_at))) return undefined;
  return grantOf({
    id,
    provider,
    status: grant_status,
    email,
    scope,
    createdAt: created_at,
    updatedAt: updated_at,
    credentialId: credential_id,
  });
}

/** The zod schema's reading alone: what decides every grant `quickWireGrant` leaves to it. */
export function zodWireGrant(raw: unknown, what: string): NylasGrant {
  const g = parseAnswer(wireGrant(), raw, "nylas", what);
  return grantOf({
    ...g,
    status: g.grant_status,
    createdAt: g.created_at,
    updatedAt: g.updated_at,
    credentialId: g.credential_id,
  });
}

/** The grant `GET /v3/grants/{grantId}` answered (as the SDK hands it over); another grant's id contradicts. */
export function parseFoundGrant(raw: unknown, grantId: string, what: string): NylasGrant {
  const g = parseAnswer(sdkGrant(), raw, "nylas", what);
  if (g.id !== grantId) throw malformedAnswer("nylas", what, `it describes grant ${g.id}, not ${grantId}`);
  return grantOf({ ...g, status: g.grantStatus });
}

/** The Microsoft connector's `data`: an object whose settings are an object (never a secret kept). */
export const wireConnector = onFirstUse(() =>
  z.looseObject({
    name: text(),
    provider: z.optional(z.nullable(z.literal("microsoft"))),
    settings: z.looseObject({ client_id: z.optional(z.string()), tenant: text() }),
    scope: z.optional(z.nullable(z.array(z.string()))),
    active_credential_id: text(),
  }),
);

/** A `/v3/webhooks` page: `data` must be a list, not a `{}` read as "no webhooks". */
export const webhookPage = onFirstUse(() =>
  z.object({
    data: z.array(z.record(z.string(), z.unknown())),
    next_cursor: z.optional(z.nullable(z.string())),
  }),
);
