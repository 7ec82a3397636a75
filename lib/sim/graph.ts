/**
 * Simulated Microsoft Graph (`/v1.0`, `/beta`): the application, service
 * principal and consent endpoints the watchdog reads and writes, with Graph's
 * permission model (OwnedBy reads everything, writes only owned apps), its
 * error envelope, `$select`/`$filter`/`$top`/`@odata.nextLink` paging, and
 * `$batch` whose sub-requests go through the same handlers and faults.
 */
import type { Logger } from "../logger.js";
import { isGuid, requestIdsPerRequest } from "./ids.js";
import { jsonResponse, type ServiceHandler, type SimRequest, type SimResponse } from "./http.js";
import {
  ODataError,
  decodeSkipToken,
  encodeSkipToken,
  matchesClause,
  odataParam,
  odataQueryString,
  parseFilter,
  parseSelect,
  parseTop,
  type FilterClause,
} from "./odata.js";
import type { SimApp, SimAppRoleAssignment, SimPassword, SimServicePrincipal, SimTenant } from "./tenant.js";
import {
  APP_PROPERTIES,
  GRANT_PROPERTIES,
  SP_PROPERTIES,
  appValue,
  grantValue,
  render,
  spValue,
} from "./graph-render.js";
import type { AccessTokenClaims, TokenSigner } from "./token.js";
import { graphAudiences } from "./entra.js";

/** What the Graph handler needs. */
export interface GraphContext {
  tenant: SimTenant;
  signer: TokenSigner;
  /** `https://127.0.0.1:<port>` of this service (no version). */
  graphEndpoint: () => string;
  /** Runs a `$batch` sub-request through the full pipeline (recording, faults, handler). */
  dispatchSub: (req: SimRequest) => Promise<SimResponse>;
  logger: Logger;
}

const DAY_MS = 86_400_000;
const MAX_BATCH = 20;
const MSA_AUDIENCES = new Set(["AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"]);

const READ_ROLES = [
  "Application.Read.All",
  "Application.ReadWrite.All",
  "Application.ReadWrite.OwnedBy",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];
const WRITE_ALL_ROLES = ["Application.ReadWrite.All", "Directory.ReadWrite.All"];
const GRANT_READ_ROLES = [
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "DelegatedPermissionGrant.ReadWrite.All",
];
const POLICY_READ_ROLES = ["Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration"];
const SIGN_IN_REPORT_ROLES = ["AuditLog.Read.All", "Directory.Read.All"];
const SIGN_IN_REPORT_SET = "reports/appCredentialSignInActivities";
const APP_ID_FILTER_RE =
  /^\s*appId\s+eq\s+'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'\s*$/i;

interface Caller {
  appId: string;
  spId: string;
  roles: Set<string>;
}

const hasAny = (caller: Caller, roles: readonly string[]) => roles.some((r) => caller.roles.has(r));

// ---------------------------------------------------------------- service

/** Creates the Graph request handler. */
export function createGraphService(ctx: GraphContext): ServiceHandler {
  const { tenant } = ctx;
  const requestIdOf = requestIdsPerRequest<SimRequest>();
  const clientRequestIdOf = (req: SimRequest) => req.headers["client-request-id"] ?? requestIdOf(req);

  function graphError(
    req: SimRequest,
    status: number,
    code: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): SimResponse {
    return jsonResponse(status, {
      error: {
        code,
        message,
        ...extra,
        innerError: {
          date: tenant.clock
            .now()
            .toISOString()
            .replace(/\.\d+Z$/, ""),
          "request-id": requestIdOf(req),
          "client-request-id": clientRequestIdOf(req),
        },
      },
    });
  }

  const denied = (req: SimRequest) =>
    graphError(req, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
  const notFound = (req: SimRequest, key: string) =>
    graphError(
      req,
      404,
      "Request_ResourceNotFound",
      `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
    );

  function authenticate(req: SimRequest): Caller | SimResponse {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match?.[1]) return graphError(req, 401, "InvalidAuthenticationToken", "Access token is empty.");
    const result = ctx.signer.verify(match[1], Math.floor(Date.now() / 1000));
    if ("error" in result) return graphError(req, 401, "InvalidAuthenticationToken", result.error);
    const claims: AccessTokenClaims = result.claims;
    if (!graphAudiences(ctx.graphEndpoint()).has(claims.aud)) {
      return graphError(
        req,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
      );
    }
    if (claims.tid !== tenant.tenantId) {
      return graphError(
        req,
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid issuer.",
      );
    }
    return { appId: claims.appid, spId: claims.oid, roles: new Set(claims.roles ?? []) };
  }

  const base = (version: string) => `${ctx.graphEndpoint()}/${version}`;

  function contextUrl(version: string, set: string, select: string[] | undefined, entity = false): string {
    return `${base(version)}/$metadata#${set}${select ? `(${select.join(",")})` : ""}${entity ? "/$entity" : ""}`;
  }

  /** One page of a collection in snapshot order, with a nextLink while more remain. */
  function page<T extends { id: string }>(
    req: SimRequest,
    version: string,
    setPath: string,
    items: readonly T[],
    options: {
      index?: ReadonlyMap<string, number>;
      predicate?: (item: T) => boolean;
      renderItem: (item: T) => Record<string, unknown>;
      select: string[] | undefined;
      contextSet: string;
      count?: () => number;
    },
  ): SimResponse {
    const top = parseTop(odataParam(req.query, "$top"), 100, 999);
    const token = odataParam(req.query, "$skiptoken");
    let position = 0;
    if (token !== null) {
      const state = decodeSkipToken(token);
      const anchored = options.index?.get(state.k);
      position = anchored !== undefined ? anchored + 1 : state.p;
    }
    const value: Record<string, unknown>[] = [];
    let i = position;
    let lastId = "";
    for (; i < items.length && value.length < top; i++) {
      const item = items[i] as T;
      if (options.predicate && !options.predicate(item)) continue;
      value.push(options.renderItem(item));
      lastId = item.id;
    }
    const body: Record<string, unknown> = {
      "@odata.context": contextUrl(version, options.contextSet, options.select),
    };
    if (options.count && token === null) body["@odata.count"] = options.count();
    if (i < items.length) {
      const params: [string, string][] = [];
      for (const name of ["$select", "$filter", "$top", "$count"]) {
        const v = odataParam(req.query, name);
        if (v !== null) params.push([name, v]);
      }
      params.push(["$skiptoken", encodeSkipToken({ p: i, k: lastId })]);
      body["@odata.nextLink"] = `${base(version)}/${setPath}?${odataQueryString(params)}`;
    }
    body.value = value;
    return jsonResponse(200, body);
  }

  function countOption(req: SimRequest, total: () => number): (() => number) | undefined {
    const count = odataParam(req.query, "$count");
    if (count === null || count.toLowerCase() !== "true") return undefined;
    if ((req.headers.consistencylevel ?? "").toLowerCase() !== "eventual") {
      throw new ODataError(
        400,
        "Request_BadRequest",
        "$count is not currently supported without the ConsistencyLevel header set to 'eventual'.",
      );
    }
    return total;
  }

  // ------------------------------------------------------------ applications

  function resolveApp(req: SimRequest, key: AppKey): SimApp | SimResponse {
    if (key.kind === "id") {
      if (!isGuid(key.value))
        return graphError(req, 400, "Request_BadRequest", `Invalid object identifier '${key.value}'.`);
      return tenant.appById(key.value) ?? notFound(req, key.value);
    }
    return tenant.appByAppId(key.value) ?? notFound(req, key.value);
  }

  const canRead = (caller: Caller, app?: SimApp) =>
    hasAny(caller, READ_ROLES) || (app !== undefined && app.appId === caller.appId);
  const canWrite = (caller: Caller, app: SimApp) =>
    hasAny(caller, WRITE_ALL_ROLES) ||
    (caller.roles.has("Application.ReadWrite.OwnedBy") && app.owners.includes(caller.spId));

  /**
   * Graph's throttle on `$select=keyCredentials` (tenant.keyCredentialsThrottle):
   * a 429 with Retry-After once the clock minute's budget is spent.
   */
  function keyCredentialsThrottled(req: SimRequest, select: string[] | undefined): SimResponse | undefined {
    if (select === undefined || !select.includes("keyCredentials")) return undefined;
    const taken = tenant.takeKeyCredentialsRead();
    if (taken.ok) return undefined;
    const res = graphError(
      req,
      429,
      "TooManyRequests",
      "Too many requests. Reads that select keyCredentials are limited per tenant; retry after the delay in Retry-After.",
    );
    return { ...res, headers: { ...res.headers, "retry-after": String(taken.retryAfterSeconds) } };
  }

  function listApplications(req: SimRequest, caller: Caller, version: string): SimResponse {
    // Reading itself needs no permission, but listing does.
    if (!canRead(caller)) return denied(req);
    const select = parseSelect(
      odataParam(req.query, "$select"),
      Object.keys(APP_PROPERTIES),
      "microsoft.graph.application",
    );
    const throttled = keyCredentialsThrottled(req, select);
    if (throttled) return throttled;
    const filter = odataParam(req.query, "$filter");
    const clauses = filter
      ? parseFilter(filter, "Application", {
          appId: ["eq", "in"],
          id: ["eq", "in"],
          displayName: ["eq", "in", "startswith"],
          signInAudience: ["eq", "in"],
        })
      : [];
    const renderItem = (a: SimApp) => render(a, APP_PROPERTIES, select);
    const snapshot = tenant.appsSnapshot();
    const keyClause = clauses.find((c) => c.property === "appId" || c.property === "id");
    if (keyClause) {
      // Indexed lookup: a filter by appId/id answers in O(values), not O(tenant).
      const found = keyClause.values
        .map((v) => (keyClause.property === "appId" ? tenant.appByAppId(v) : tenant.appById(v)))
        .filter((a): a is SimApp => a !== undefined);
      const ordered = found.sort((a, b) => (snapshot.index.get(a.id) ?? 0) - (snapshot.index.get(b.id) ?? 0));
      return page(req, version, "applications", ordered, {
        predicate: (a) => clauses.every((c) => matchesClause(appValue(a, c.property), c)),
        renderItem,
        select,
        contextSet: "applications",
        count: countOption(req, () => ordered.length),
      });
    }
    const predicate =
      clauses.length === 0
        ? undefined
        : (a: SimApp) => clauses.every((c) => matchesClause(appValue(a, c.property), c));
    return page(req, version, "applications", snapshot.list, {
      index: snapshot.index,
      ...(predicate ? { predicate } : {}),
      renderItem,
      select,
      contextSet: "applications",
      count: countOption(req, () =>
        predicate ? snapshot.list.filter(predicate).length : snapshot.list.length,
      ),
    });
  }

  function getApplication(req: SimRequest, caller: Caller, version: string, key: AppKey): SimResponse {
    const select = parseSelect(
      odataParam(req.query, "$select"),
      Object.keys(APP_PROPERTIES),
      "microsoft.graph.application",
    );
    const throttled = keyCredentialsThrottled(req, select);
    if (throttled) return throttled;
    const app = resolveApp(req, key);
    if (!isApp(app)) return app;
    if (!canRead(caller, app) || tenant.isUnreadable(app)) return denied(req);
    return jsonResponse(200, {
      "@odata.context": contextUrl(version, "applications", select, true),
      ...render(app, APP_PROPERTIES, select),
    });
  }

  function addPassword(req: SimRequest, caller: Caller, version: string, key: AppKey): SimResponse {
    if (!hasAny(caller, READ_ROLES)) return denied(req);
    const app = resolveApp(req, key);
    if (!isApp(app)) return app;
    if (!canWrite(caller, app)) return denied(req);
    const body = parseJsonBody(req, true);
    if (body instanceof ODataError) return graphError(req, body.status, body.code, body.message);
    const input = (body.passwordCredential ?? {}) as Record<string, unknown>;
    const now = tenant.clock.now();
    const start = input.startDateTime === undefined ? now : parseDate(input.startDateTime);
    if (start instanceof ODataError) return graphError(req, start.status, start.code, start.message);
    // Graph's documented default lifetime: startDateTime + 2 years.
    const end = input.endDateTime === undefined ? addYears(start, 2) : parseDate(input.endDateTime);
    if (end instanceof ODataError) return graphError(req, end.status, end.code, end.message);
    if (end.getTime() <= start.getTime()) {
      return graphError(
        req,
        400,
        "Request_BadRequest",
        "The end date of the credential must be later than its start date.",
      );
    }
    const max = tenant.lifetimePolicyMaxDays;
    if (max !== undefined && end.getTime() - start.getTime() > max * DAY_MS) {
      return graphError(
        req,
        400,
        "CredentialInvalidLifetimeAsPerAppPolicy",
        `Credential lifetime exceeds the max value allowed as per assigned policy '${tenant.lifetimePolicyId}'.`,
      );
    }
    if (MSA_AUDIENCES.has(app.signInAudience) && app.passwordCredentials.length >= 2) {
      return graphError(
        req,
        400,
        "TooManyAppPasswords",
        `Not allowed to add ${app.passwordCredentials.length + 1} passwords. You can only add a maximum of 2 passwords.`,
        { details: [{ target: "passwordCredentials", code: "TooManyAppPasswords" }] },
      );
    }
    const displayName = typeof input.displayName === "string" ? input.displayName : null;
    const password = tenant.createPassword(app, { displayName, startDateTime: start, endDateTime: end });
    ctx.logger.debug(`sim graph: addPassword on ${app.appId} keyId=${password.keyId}`);
    return jsonResponse(200, {
      "@odata.context": `${base(version)}/$metadata#microsoft.graph.passwordCredential`,
      customKeyIdentifier: null,
      displayName: password.displayName,
      endDateTime: password.endDateTime,
      hint: password.hint,
      keyId: password.keyId,
      secretText: password.value,
      startDateTime: password.startDateTime,
    });
  }

  function removePassword(req: SimRequest, caller: Caller, key: AppKey): SimResponse {
    if (!hasAny(caller, READ_ROLES)) return denied(req);
    const app = resolveApp(req, key);
    if (!isApp(app)) return app;
    if (!canWrite(caller, app)) return denied(req);
    const body = parseJsonBody(req, false);
    if (body instanceof ODataError) return graphError(req, body.status, body.code, body.message);
    const keyId = body.keyId;
    if (typeof keyId !== "string" || !isGuid(keyId)) {
      return graphError(
        req,
        400,
        "Request_BadRequest",
        "Invalid value specified for property 'keyId' of resource 'PasswordCredential'.",
      );
    }
    if (!tenant.removePassword(app, keyId)) {
      return graphError(req, 400, "InvalidKeyId", `No password credential found with keyId '${keyId}'.`);
    }
    ctx.logger.debug(`sim graph: removePassword on ${app.appId} keyId=${keyId}`);
    return { status: 204 };
  }

  function listOwners(req: SimRequest, caller: Caller, version: string, key: AppKey): SimResponse {
    const app = resolveApp(req, key);
    if (!isApp(app)) return app;
    if (!canRead(caller, app) || tenant.isUnreadable(app)) return denied(req);
    const value = app.owners.map((ownerId) => {
      const sp = tenant.spById(ownerId);
      if (!sp) return { "@odata.type": "#microsoft.graph.user", id: ownerId };
      return {
        "@odata.type": "#microsoft.graph.servicePrincipal",
        id: sp.id,
        appId: sp.appId,
        displayName: sp.displayName,
        servicePrincipalType: sp.servicePrincipalType,
      };
    });
    return jsonResponse(200, { "@odata.context": `${base(version)}/$metadata#directoryObjects`, value });
  }

  // ------------------------------------------------------------ service principals

  function resolveSp(req: SimRequest, key: AppKey): SimServicePrincipal | SimResponse {
    if (key.kind === "id") {
      if (!isGuid(key.value))
        return graphError(req, 400, "Request_BadRequest", `Invalid object identifier '${key.value}'.`);
      return tenant.spById(key.value) ?? notFound(req, key.value);
    }
    return tenant.spByAppId(key.value) ?? notFound(req, key.value);
  }

  const canReadSp = (caller: Caller, sp?: SimServicePrincipal) =>
    hasAny(caller, READ_ROLES) || (sp !== undefined && sp.id === caller.spId);

  function listServicePrincipals(req: SimRequest, caller: Caller, version: string): SimResponse {
    if (!canReadSp(caller)) return denied(req);
    const select = parseSelect(
      odataParam(req.query, "$select"),
      Object.keys(SP_PROPERTIES),
      "microsoft.graph.servicePrincipal",
    );
    const filter = odataParam(req.query, "$filter");
    const clauses = filter
      ? parseFilter(filter, "ServicePrincipal", {
          appId: ["eq", "in"],
          id: ["eq", "in"],
          displayName: ["eq", "in", "startswith"],
          servicePrincipalType: ["eq", "in"],
        })
      : [];
    const renderItem = (s: SimServicePrincipal) => render(s, SP_PROPERTIES, select);
    const predicate = (s: SimServicePrincipal) =>
      clauses.every((c) => matchesClause(spValue(s, c.property), c));
    const keyClause = clauses.find((c) => c.property === "appId" || c.property === "id");
    const items = keyClause
      ? keyClause.values
          .map((v) => (keyClause.property === "appId" ? tenant.spByAppId(v) : tenant.spById(v)))
          .filter((s): s is SimServicePrincipal => s !== undefined)
      : tenant.spsSnapshot();
    return page(req, version, "servicePrincipals", items, {
      predicate,
      renderItem,
      select,
      contextSet: "servicePrincipals",
      count: countOption(req, () => items.filter(predicate).length),
    });
  }

  function getServicePrincipal(req: SimRequest, caller: Caller, version: string, key: AppKey): SimResponse {
    const sp = resolveSp(req, key);
    if (!isSp(sp)) return sp;
    if (!canReadSp(caller, sp)) return denied(req);
    const select = parseSelect(
      odataParam(req.query, "$select"),
      Object.keys(SP_PROPERTIES),
      "microsoft.graph.servicePrincipal",
    );
    return jsonResponse(200, {
      "@odata.context": contextUrl(version, "servicePrincipals", select, true),
      ...render(sp, SP_PROPERTIES, select),
    });
  }

  function renderAssignment(a: SimAppRoleAssignment): Record<string, unknown> {
    const principal = tenant.spById(a.principalId);
    const resource = tenant.spById(a.resourceId);
    return {
      id: a.id,
      deletedDateTime: null,
      appRoleId: a.appRoleId,
      createdDateTime: a.createdDateTime,
      principalDisplayName: principal?.displayName ?? null,
      principalId: a.principalId,
      principalType: "ServicePrincipal",
      resourceDisplayName: resource?.displayName ?? null,
      resourceId: a.resourceId,
    };
  }

  function listAppRoleAssignments(
    req: SimRequest,
    caller: Caller,
    version: string,
    key: AppKey,
  ): SimResponse {
    const sp = resolveSp(req, key);
    if (!isSp(sp)) return sp;
    if (!canReadSp(caller, sp)) return denied(req);
    const value = tenant.appRoleAssignments.filter((a) => a.principalId === sp.id).map(renderAssignment);
    return jsonResponse(200, {
      "@odata.context": `${base(version)}/$metadata#servicePrincipals('${sp.id}')/appRoleAssignments`,
      value,
    });
  }

  function listGrants(
    req: SimRequest,
    caller: Caller,
    version: string,
    forClientSp?: SimServicePrincipal,
  ): SimResponse {
    if (!hasAny(caller, GRANT_READ_ROLES)) return denied(req);
    const select = parseSelect(
      odataParam(req.query, "$select"),
      Object.keys(GRANT_PROPERTIES),
      "microsoft.graph.oAuth2PermissionGrant",
    );
    const filter = odataParam(req.query, "$filter");
    const clauses: FilterClause[] = filter
      ? parseFilter(filter, "OAuth2PermissionGrant", {
          clientId: ["eq", "in"],
          consentType: ["eq"],
          principalId: ["eq"],
          resourceId: ["eq", "in"],
          id: ["eq"],
        })
      : [];
    const items = tenant.oauth2PermissionGrants.filter(
      (g) =>
        (forClientSp === undefined || g.clientId === forClientSp.id) &&
        clauses.every((c) => matchesClause(grantValue(g, c.property), c)),
    );
    return page(req, version, "oauth2PermissionGrants", items, {
      renderItem: (g) => render(g, GRANT_PROPERTIES, select),
      select,
      contextSet: "oauth2PermissionGrants",
    });
  }

  function defaultAppManagementPolicy(req: SimRequest, caller: Caller, version: string): SimResponse {
    if (!hasAny(caller, POLICY_READ_ROLES)) return denied(req);
    const max = tenant.lifetimePolicyMaxDays;
    return jsonResponse(200, {
      "@odata.context": `${base(version)}/$metadata#policies/defaultAppManagementPolicy/$entity`,
      id: tenant.lifetimePolicyId,
      displayName: "Default app management tenant policy",
      description:
        "Default tenant policy that enforces app management restrictions on applications and service principals.",
      isEnabled: max !== undefined,
      applicationRestrictions: {
        passwordCredentials:
          max === undefined
            ? []
            : [
                {
                  restrictionType: "passwordLifetime",
                  state: "enabled",
                  maxLifetime: `P${max}D`,
                  restrictForAppsCreatedAfterDateTime: "0001-01-01T00:00:00Z",
                },
              ],
        keyCredentials: [],
      },
      servicePrincipalRestrictions: { passwordCredentials: [], keyCredentials: [] },
    });
  }

  // ------------------------------------------------------------ reports

  /** One password credential of an app, as an appCredentialSignInActivity. */
  interface CredentialActivity {
    id: string;
    app: SimApp;
    password: SimPassword;
  }

  const activityId = (keyId: string) => Buffer.from(`${keyId}|application`).toString("base64");

  function renderActivity({ id, app, password }: CredentialActivity): Record<string, unknown> {
    const signIn = tenant.visibleSignIn(password.keyId);
    return {
      id,
      appId: app.appId,
      appObjectId: app.id,
      keyId: password.keyId,
      keyType: "clientSecret",
      keyUsage: "verify",
      credentialOrigin: "application",
      // Seeded secrets carry createdAt 0 (past any propagation delay); their start is the better answer.
      createdDateTime:
        password.createdAt.getTime() > 0 ? password.createdAt.toISOString() : password.startDateTime,
      expirationDateTime: password.endDateTime,
      resourceId: signIn?.resourceId ?? null,
      servicePrincipalObjectId: tenant.spByAppId(app.appId)?.id ?? null,
      signInActivity: {
        lastSignInDateTime: signIn ? signIn.at.toISOString() : null,
        lastSignInRequestId: signIn?.requestId ?? null,
      },
    };
  }

  /** 403 unless the report answers this caller (mode, permission, licence, in that order). */
  function signInReportRefusal(req: SimRequest, caller: Caller): SimResponse | undefined {
    const { mode } = tenant.signInReport;
    if (mode === "forbidden" || !hasAny(caller, SIGN_IN_REPORT_ROLES)) return denied(req);
    if (mode === "unlicensed") {
      return graphError(
        req,
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Neither tenant is B2C or tenant doesn't have premium license",
      );
    }
    return undefined;
  }

  /** GET /beta/reports/appCredentialSignInActivities: one entry per password credential on each app. */
  function listCredentialSignInActivities(req: SimRequest, caller: Caller, version: string): SimResponse {
    const refused = signInReportRefusal(req, caller);
    if (refused) return refused;
    const filter = odataParam(req.query, "$filter");
    let apps: readonly SimApp[];
    if (filter === null) {
      apps = tenant.appsSnapshot().list;
    } else {
      const m = APP_ID_FILTER_RE.exec(filter);
      if (!m) {
        return graphError(
          req,
          400,
          "Request_UnsupportedQuery",
          `Unsupported or invalid query filter clause specified for resource 'appCredentialSignInActivity': '${filter}'. Only appId eq '<guid>' is supported.`,
        );
      }
      const app = tenant.appByAppId(m[1] ?? "") ?? tenant.appByAppId((m[1] ?? "").toLowerCase());
      apps = app ? [app] : [];
    }
    const items: CredentialActivity[] = [];
    for (const app of apps) {
      for (const password of app.passwordCredentials) {
        items.push({ id: activityId(password.keyId), app, password });
      }
    }
    return page(req, version, SIGN_IN_REPORT_SET, items, {
      renderItem: renderActivity,
      select: undefined,
      contextSet: SIGN_IN_REPORT_SET,
    });
  }

  /** GET /beta/reports/appCredentialSignInActivities/{id}. */
  function getCredentialSignInActivity(
    req: SimRequest,
    caller: Caller,
    version: string,
    id: string,
  ): SimResponse {
    const refused = signInReportRefusal(req, caller);
    if (refused) return refused;
    const decoded = Buffer.from(id, "base64").toString("utf8");
    const keyId = decoded.endsWith("|application") ? decoded.slice(0, -"|application".length) : "";
    if (isGuid(keyId)) {
      for (const app of tenant.appsSnapshot().list) {
        const password = app.passwordCredentials.find((p) => p.keyId.toLowerCase() === keyId.toLowerCase());
        if (password) {
          return jsonResponse(200, {
            "@odata.context": `${base(version)}/$metadata#${SIGN_IN_REPORT_SET}/$entity`,
            ...renderActivity({ id, app, password }),
          });
        }
      }
    }
    return notFound(req, id);
  }

  // ------------------------------------------------------------ $batch

  type BatchSub = {
    id: string;
    method: string;
    url: string;
    headers?: unknown;
    body?: unknown;
    dependsOn?: unknown;
  };
  type BatchEntry = { id: string; status: number; headers: Record<string, string>; body?: unknown };

  /** The envelope's sub-requests, or an ODataError thrown (`handle` answers it) for a malformed one. */
  function batchRequests(req: SimRequest): BatchSub[] {
    const parsed = parseJsonBody(req, false);
    if (parsed instanceof ODataError) throw parsed;
    const requests = parsed.requests;
    if (!Array.isArray(requests))
      throw new ODataError(400, "BadRequest", "Invalid batch payload format: 'requests' must be an array.");
    if (requests.length > MAX_BATCH) {
      const text = `The number of requests in the batch (${requests.length}) exceeds the limit of ${MAX_BATCH}.`;
      throw new ODataError(400, "BadRequest", text);
    }
    const ids = new Set<string>();
    for (const sub of requests as Record<string, unknown>[]) {
      const id = sub.id;
      if (typeof id !== "string" || typeof sub.method !== "string" || typeof sub.url !== "string") {
        const text = "Invalid batch payload format: each request needs 'id', 'method' and 'url'.";
        throw new ODataError(400, "BadRequest", text);
      }
      if (ids.has(id))
        throw new ODataError(400, "BadRequest", `Batch request ids must be unique: '${id}' repeats.`);
      ids.add(id);
    }
    return requests as BatchSub[];
  }

  /** A sub-response the envelope answers itself, with Graph's error body. */
  function batchError(req: SimRequest, id: string, status: number, code: string, message: string) {
    const body = JSON.parse(graphError(req, status, code, message).body ?? "{}") as unknown;
    return { id, status, headers: { "Content-Type": "application/json" }, body };
  }

  /** A sub-request as the handlers see it: the envelope's token, the sub's headers and body. */
  function batchSubRequest(req: SimRequest, version: string, sub: BatchSub): SimRequest {
    const url = new URL(
      `/${version}${sub.url.startsWith("/") ? "" : "/"}${sub.url}`,
      "https://graph.invalid",
    );
    const headers: Record<string, string> = {};
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    if (sub.headers && typeof sub.headers === "object") {
      for (const [k, v] of Object.entries(sub.headers as Record<string, unknown>))
        headers[k.toLowerCase()] = String(v);
    }
    const body =
      sub.body === undefined ? "" : typeof sub.body === "string" ? sub.body : JSON.stringify(sub.body);
    const { pathname: path, searchParams: query } = url;
    return { service: "graph", method: sub.method.toUpperCase(), path, query, headers, body, batch: true };
  }

  /** One sub-response of the envelope, or the aborted answer that takes the envelope with it. */
  async function batchEntry(req: SimRequest, version: string, sub: BatchSub, statuses: Map<string, number>) {
    const dependsOn = Array.isArray(sub.dependsOn) ? (sub.dependsOn as unknown[]).map(String) : [];
    if (dependsOn.some((d) => (statuses.get(d) ?? 424) >= 400))
      return batchError(req, sub.id, 424, "FailedDependency", "Failed dependency.");
    if (/^https?:/i.test(sub.url))
      return batchError(req, sub.id, 400, "BadRequest", "Batch request urls must be relative.");
    const res = await ctx.dispatchSub(batchSubRequest(req, version, sub));
    // A hung or reset sub-request takes the whole envelope with it: it is one HTTP exchange.
    if (res.abort !== undefined) return { aborted: res };
    const entry: BatchEntry = { id: sub.id, status: res.status, headers: batchHeaders(res.headers ?? {}) };
    if (res.body !== undefined && res.body !== "") {
      try {
        entry.body = JSON.parse(res.body) as unknown;
      } catch {
        entry.body = res.body;
      }
    }
    return entry;
  }

  async function batch(req: SimRequest, version: string): Promise<SimResponse> {
    const statusById = new Map<string, number>();
    const responses: BatchEntry[] = [];
    for (const sub of batchRequests(req)) {
      const entry = await batchEntry(req, version, sub, statusById);
      if ("aborted" in entry) return entry.aborted;
      statusById.set(sub.id, entry.status);
      responses.push(entry);
    }
    return jsonResponse(200, { responses });
  }

  // ------------------------------------------------------------ routing

  type Handler<K, R = SimResponse> = (req: SimRequest, caller: Caller, version: string, key: K) => R;
  // `${set}/${action}` (lower case) of a keyed entity → the method it takes and its handler.
  const entityRoutes: Record<string, [method: string, run: Handler<AppKey>]> = {
    "applications/": ["GET", getApplication],
    "applications/addpassword": ["POST", addPassword],
    "applications/removepassword": ["POST", (req, caller, _version, key) => removePassword(req, caller, key)],
    "applications/owners": ["GET", listOwners],
    "serviceprincipals/": ["GET", getServicePrincipal],
    "serviceprincipals/approleassignments": ["GET", listAppRoleAssignments],
    "serviceprincipals/oauth2permissiongrants": [
      "GET",
      (req, caller, version, key) => {
        const sp = resolveSp(req, key);
        return isSp(sp) ? listGrants(req, caller, version, sp) : sp;
      },
    ],
  };

  const ENTITY_RE =
    /^\/(applications|servicePrincipals)(?:\(appId='((?:[^']|'')*)'\)|\/([^/()]+))?(?:\/(?:microsoft\.graph\.)?([A-Za-z0-9]+))?\/?$/i;

  /** `/applications…` and `/servicePrincipals…`: the collections, one entity, or an action on it. */
  function entity(req: SimRequest, caller: Caller, version: string, m: RegExpExecArray): SimResponse {
    const set = (m[1] ?? "").toLowerCase();
    const key: AppKey | undefined =
      m[2] !== undefined
        ? { kind: "appId", value: m[2].replace(/''/g, "'") }
        : m[3] !== undefined
          ? { kind: "id", value: m[3] }
          : undefined;
    const action = m[4]?.toLowerCase();
    const unknownSegment = () =>
      graphError(req, 400, "BadRequest", `Resource not found for the segment '${m[4] ?? ""}'.`);
    if (key === undefined && action === undefined) {
      if (req.method !== "GET") return methodNotAllowed(req);
      return set === "applications"
        ? listApplications(req, caller, version)
        : listServicePrincipals(req, caller, version);
    }
    const target = key === undefined ? undefined : entityRoutes[`${set}/${action ?? ""}`];
    if (key === undefined || target === undefined) return unknownSegment();
    return req.method === target[0] ? target[1](req, caller, version, key) : methodNotAllowed(req);
  }

  type Route = {
    re: RegExp;
    /** The only method the target takes; undefined when the handler checks it. */
    method?: string;
    betaOnly?: boolean;
    run: Handler<RegExpExecArray, Promise<SimResponse> | SimResponse>;
  };
  const routes: Route[] = [
    // Permissions are checked per sub-request, each with the envelope's token.
    { re: /^\/\$batch\/?$/i, method: "POST", run: (req, _caller, version) => batch(req, version) },
    { re: ENTITY_RE, run: entity },
    { re: /^\/oauth2PermissionGrants\/?$/i, method: "GET", run: (req, c, v) => listGrants(req, c, v) },
    { re: /^\/policies\/defaultAppManagementPolicy\/?$/i, method: "GET", run: defaultAppManagementPolicy },
    // Beta only: on v1.0 the segment is unknown (the fallback in `route`).
    {
      re: /^\/reports\/appCredentialSignInActivities(?:\/(.+?))?\/?$/i,
      method: "GET",
      betaOnly: true,
      run: (req, caller, version, m) =>
        m[1] === undefined
          ? listCredentialSignInActivities(req, caller, version)
          : getCredentialSignInActivity(req, caller, version, m[1]),
    },
  ];

  const methodNotAllowed = (req: SimRequest) =>
    graphError(
      req,
      405,
      "Request_BadRequest",
      "Specified HTTP method is not allowed for the request target.",
    );

  async function route(req: SimRequest): Promise<SimResponse> {
    const m = /^\/(v1\.0|beta)(\/.*)?$/i.exec(req.path);
    if (!m) return graphError(req, 400, "BadRequest", "Invalid version.");
    const version = (m[1] ?? "v1.0").toLowerCase() === "beta" ? "beta" : "v1.0";
    let rest: string;
    try {
      rest = decodeURIComponent(m[2] ?? "");
    } catch {
      return graphError(req, 400, "BadRequest", "Invalid request URL.");
    }
    const caller = authenticate(req);
    if (!isCaller(caller)) return caller;
    for (const r of routes) {
      const match = r.re.exec(rest);
      if (match === null || (r.betaOnly === true && version !== "beta")) continue;
      if (r.method !== undefined && req.method !== r.method) return methodNotAllowed(req);
      return r.run(req, caller, version, match);
    }
    const segment = rest.split("/").filter(Boolean)[0] ?? "";
    return graphError(req, 400, "BadRequest", `Resource not found for the segment '${segment}'.`);
  }

  return {
    async handle(req) {
      try {
        return await route(req);
      } catch (error) {
        if (error instanceof ODataError) return graphError(req, error.status, error.code, error.message);
        throw error;
      }
    },

    errorResponse(status, req) {
      if (status === 429) {
        return {
          ...graphError(req, 429, "TooManyRequests", "Too many requests."),
          headers: { "content-type": "application/json; charset=utf-8", "retry-after": "1" },
        };
      }
      if (status === 503) return graphError(req, 503, "serviceNotAvailable", "Service Unavailable.");
      if (status === 504) return graphError(req, 504, "UnknownError", "Gateway Timeout.");
      if (status >= 500) return graphError(req, status, "generalException", "An unexpected error occurred.");
      if (status === 401)
        return graphError(req, 401, "InvalidAuthenticationToken", "Access token validation failure.");
      if (status === 403)
        return graphError(
          req,
          403,
          "Authorization_RequestDenied",
          "Insufficient privileges to complete the operation.",
        );
      if (status === 404) return graphError(req, 404, "Request_ResourceNotFound", "Resource does not exist.");
      return graphError(req, status, "BadRequest", "Bad request.");
    },

    finalize(req, res) {
      return {
        ...res,
        headers: {
          "request-id": requestIdOf(req),
          "client-request-id": clientRequestIdOf(req),
          "x-ms-ags-diagnostic": JSON.stringify({
            ServerInfo: {
              DataCenter: "Simulated",
              Slice: "E",
              Ring: "5",
              ScaleUnit: "000",
              RoleInstance: "SIM",
            },
          }),
          ...(res.status < 300 && res.body ? { "odata-version": "4.0" } : {}),
          ...res.headers,
        },
      };
    },
  };
}

// ---------------------------------------------------------------- helpers

type AppKey = { kind: "id"; value: string } | { kind: "appId"; value: string };

function isCaller(x: Caller | SimResponse): x is Caller {
  return "spId" in x;
}

function isApp(x: SimApp | SimResponse): x is SimApp {
  return "appId" in x && "passwordCredentials" in x;
}

function isSp(x: SimServicePrincipal | SimResponse): x is SimServicePrincipal {
  return "appId" in x && "servicePrincipalType" in x;
}

function parseJsonBody(req: SimRequest, allowEmpty: boolean): Record<string, unknown> | ODataError {
  if (req.body.trim() === "") {
    return allowEmpty ? {} : new ODataError(400, "BadRequest", "Empty Payload. JSON content expected.");
  }
  try {
    const parsed = JSON.parse(req.body) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch {
    return new ODataError(
      400,
      "BadRequest",
      "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
    );
  }
}

function addYears(d: Date, years: number): Date {
  const out = new Date(d.getTime());
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

function parseDate(value: unknown): Date | ODataError {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    return new ODataError(
      400,
      "BadRequest",
      `Cannot convert the literal '${String(value)}' to the expected type 'Edm.DateTimeOffset'.`,
    );
  }
  return new Date(ms);
}

/** Header names in `$batch` sub-responses are title-cased, as Graph writes them. */
function batchHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === "content-length") continue;
    const titled =
      name === "request-id" || name === "client-request-id"
        ? name
        : name.replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
    out[titled] = value;
  }
  return out;
}
