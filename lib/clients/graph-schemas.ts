/**
 * What this product reads from Microsoft Graph, as zod schemas: every field a
 * caller reads is checked before it is trusted. A credential without `keyId`
 * or with an `endDateTime` that is missing or not a date, or an app whose
 * selected `passwordCredentials` is absent or null, is not "an app without
 * secrets": it is an answer that cannot be read (answer.ts).
 */
import * as z from "zod/mini";
import { isRecord } from "../util/json-guards.js";
import { IsoDate, malformedAnswer, parseAnswer } from "./answer.js";
import { quickApplication } from "./quick-application.js";
import type {
  AppRoleAssignment,
  BatchedRead,
  GraphApplication,
  KeyCredential,
  OAuth2PermissionGrant,
  PasswordCredential,
  ServicePrincipal,
  SignInRow,
} from "./graph-types.js";

const Text = z.optional(z.nullable(z.string()));
const NonEmpty = z.string().check(z.minLength(1));

// Graph documents endDateTime on every credential; a certificate or secret without one is not "never expires".
const Password = z.object({
  keyId: NonEmpty,
  displayName: Text,
  hint: Text,
  startDateTime: z.optional(z.nullable(IsoDate)),
  endDateTime: IsoDate,
});

const Key = z.object({
  keyId: NonEmpty,
  displayName: Text,
  startDateTime: z.optional(z.nullable(IsoDate)),
  endDateTime: IsoDate,
  type: Text,
  usage: Text,
});

const RedirectUris = z.optional(z.nullable(z.object({ redirectUris: z.array(z.string()) })));

/** The application properties any caller reads; the credential lists are required when selected. */
/**
 * One schema per shape of `$select` (which credential lists must be present), built once: building
 * a zod schema per application was most of a 10k-app scan's time and garbage (bench, 2026-12-01).
 */
const applicationSchemas = new Map<string, ReturnType<typeof buildApplicationSchema>>();

function applicationSchema(select: readonly string[]) {
  const key = `${select.includes("passwordCredentials")}|${select.includes("keyCredentials")}`;
  let schema = applicationSchemas.get(key);
  if (schema === undefined) applicationSchemas.set(key, (schema = buildApplicationSchema(select)));
  return schema;
}

function buildApplicationSchema(select: readonly string[]) {
  const passwords = z.array(Password);
  const keys = z.array(Key);
  return z.looseObject({
    id: NonEmpty,
    appId: NonEmpty,
    displayName: Text,
    signInAudience: z.optional(z.nullable(z.string())),
    passwordCredentials: select.includes("passwordCredentials") ? passwords : z.optional(passwords),
    keyCredentials: select.includes("keyCredentials") ? keys : z.optional(keys),
    web: RedirectUris,
    spa: RedirectUris,
    publicClient: RedirectUris,
    requiredResourceAccess: z.optional(
      z.nullable(
        z.array(
          z.object({
            resourceAppId: z.string(),
            resourceAccess: z.array(z.object({ id: z.string(), type: z.string() })),
          }),
        ),
      ),
    ),
  });
}

function toPassword(p: z.output<typeof Password>): PasswordCredential {
  return {
    keyId: p.keyId,
    displayName: p.displayName ?? null,
    hint: p.hint ?? null,
    startDateTime: p.startDateTime ?? null,
    endDateTime: p.endDateTime,
  };
}

function toKey(k: z.output<typeof Key>): KeyCredential {
  return {
    keyId: k.keyId,
    displayName: k.displayName ?? null,
    startDateTime: k.startDateTime ?? null,
    endDateTime: k.endDateTime,
    type: k.type ?? null,
    usage: k.usage ?? null,
  };
}

/**
 * One application as Graph answered it, checked; `appId`, when given, must be
 * the one asked for (an answer about another app is contradictory, not "found").
 */
export function parseApplication(
  raw: unknown,
  select: readonly string[],
  what: string,
  appId?: string,
): GraphApplication {
  const app = quickApplication(raw, select) ?? zodApplication(raw, select, what);
  if (appId !== undefined && app.appId.toLowerCase() !== appId.toLowerCase())
    throw malformedAnswer("graph", what, `it describes application ${app.appId}, not ${appId}`);
  return app;
}

/** The zod schema's reading alone: what decides every answer `quickApplication` leaves to it. */
export function zodApplication(raw: unknown, select: readonly string[], what: string): GraphApplication {
  const app = parseAnswer(applicationSchema(select), raw, "graph", what);
  const { web, spa, publicClient, requiredResourceAccess, signInAudience, ...rest } = app;
  return {
    ...rest,
    displayName: app.displayName ?? null,
    passwordCredentials: (app.passwordCredentials ?? []).map(toPassword),
    keyCredentials: (app.keyCredentials ?? []).map(toKey),
    ...(signInAudience == null ? {} : { signInAudience }),
    ...(web == null ? {} : { web }),
    ...(spa == null ? {} : { spa }),
    ...(publicClient == null ? {} : { publicClient }),
    ...(requiredResourceAccess == null ? {} : { requiredResourceAccess }),
  };
}

/** An OData collection page: `value` must be a list (a `{}` or an HTML page is not an empty one). */
const Page = z.object({
  value: z.array(z.unknown()),
  "@odata.nextLink": z.optional(z.string()),
});

export interface ODataPage {
  value: unknown[];
  "@odata.nextLink"?: string;
}

/** The page as both readings build it: the list, and the next link only when there is one. */
const odataPage = (value: unknown[], next: string | undefined): ODataPage =>
  next === undefined ? { value } : { value, "@odata.nextLink": next };

/** A page of Graph's: the quick check below when it is sure, else zod, which decides and words the error. */
export function parsePage(raw: unknown, what: string): ODataPage {
  return quickPage(raw) ?? zodPage(raw, what);
}

/**
 * A hand-written check of the page's envelope ahead of `Page`, as quick-application.ts does for its
 * apps: zod's array of unknowns visits and copies each of a page's 999 items, about 4 ms of a
 * 10k-app scan's CPU (profile, 2026-12-02). It accepts only what `Page` accepts and builds the same
 * page (the list itself, not a copy: nothing changes it); anything else is undefined, for zod.
 * test/lib/clients/parse-page.test.ts compares the two.
 */
export function quickPage(raw: unknown): ODataPage | undefined {
  if (!isRecord(raw) || !Array.isArray(raw.value)) return undefined;
  const next = raw["@odata.nextLink"];
  return next === undefined || typeof next === "string" ? odataPage(raw.value, next) : undefined;
}

/** The zod schema's reading alone: what decides every page `quickPage` leaves to it. */
export function zodPage(raw: unknown, what: string): ODataPage {
  const page = parseAnswer(Page, raw, "graph", what);
  return odataPage(page.value, page["@odata.nextLink"]);
}

/** The appId an item of an application page names, however malformed the rest; undefined when none. */
export function namedAppId(raw: unknown): string | undefined {
  const appId = (raw as { appId?: unknown } | null)?.appId;
  return typeof appId === "string" && appId !== "" ? appId : undefined;
}

/** One item of an application page: the app, or — when at least its appId is readable — why it is not. */
export function readListedApplication(raw: unknown, select: readonly string[], what: string): BatchedRead {
  try {
    const app = parseApplication(raw, select, what);
    return { appId: app.appId, app };
  } catch (error) {
    const appId = namedAppId(raw);
    // An item that does not even name its app cannot be reported per app: the whole page is unreadable.
    if (appId === undefined) throw error;
    return { appId, app: undefined, error: error as BatchedRead["error"] };
  }
}

const SignIn = z.object({
  keyId: z.optional(z.nullable(z.string())),
  keyType: Text,
  signInActivity: z.optional(z.nullable(z.object({ lastSignInDateTime: z.optional(z.nullable(IsoDate)) }))),
});

export function parseSignInRow(raw: unknown, what: string): SignInRow {
  const row = parseAnswer(SignIn, raw, "graph", what);
  return {
    ...(typeof row.keyId === "string" ? { keyId: row.keyId } : {}),
    keyType: row.keyType ?? null,
    signInActivity:
      row.signInActivity == null
        ? null
        : { lastSignInDateTime: row.signInActivity.lastSignInDateTime ?? null },
  };
}

const ServicePrincipalSchema = z.looseObject({
  id: NonEmpty,
  appId: NonEmpty,
  displayName: Text,
  appOwnerOrganizationId: Text,
  oauth2PermissionScopes: z.optional(z.array(z.object({ id: z.string(), value: z.string() }))),
  appRoles: z.optional(z.array(z.object({ id: z.string(), value: z.nullable(z.string()) }))),
});

export function parseServicePrincipal(raw: unknown, what: string, appId: string): ServicePrincipal {
  const sp = parseAnswer(ServicePrincipalSchema, raw, "graph", what);
  if (sp.appId.toLowerCase() !== appId.toLowerCase())
    throw malformedAnswer("graph", what, `it describes the service principal of ${sp.appId}, not ${appId}`);
  return { ...sp, displayName: sp.displayName ?? null };
}

const PermissionGrant = z.object({
  id: NonEmpty,
  clientId: NonEmpty,
  consentType: z.string(),
  principalId: z.optional(z.nullable(z.string())),
  resourceId: NonEmpty,
  scope: z.string(),
});

export function parsePermissionGrant(raw: unknown, what: string): OAuth2PermissionGrant {
  const g = parseAnswer(PermissionGrant, raw, "graph", what);
  return { ...g, principalId: g.principalId ?? null };
}

const RoleAssignment = z.object({
  id: NonEmpty,
  principalId: NonEmpty,
  resourceId: NonEmpty,
  appRoleId: NonEmpty,
});

export function parseRoleAssignment(raw: unknown, what: string): AppRoleAssignment {
  return parseAnswer(RoleAssignment, raw, "graph", what);
}

const Owner = z.object({ id: NonEmpty });

export function parseOwner(raw: unknown, what: string): { id: string } {
  return parseAnswer(Owner, raw, "graph", what);
}
