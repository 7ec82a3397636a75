/**
 * Simulated Nylas v3 API, one server per region. The application lives in
 * one region; the other answers 401 to everything, as the real wrong-region
 * endpoint does. Shapes follow Nylas' OpenAPI spec: `{request_id, data}`
 * envelopes, offset-paged grants, a connector PATCH that replaces the nested
 * `settings` object wholesale, and a connector GET that never returns the secret.
 */
import type { Logger } from "../logger.js";
import { newGuid, newSecretText, newToken, requestIdsPerRequest } from "./ids.js";
import {
  jsonResponse,
  textResponse,
  type ServiceHandler,
  type SimRequest,
  type SimResponse,
} from "./http.js";
import { TEST_EVENT_TRIGGER_TYPES, type NylasControl, type TestEventTriggerType } from "./nylas-control.js";
import type { NylasRegion, SimConnector, SimGrant, SimTenant, SimWebhook } from "./tenant.js";

/** What one region's Nylas handler needs. */
export interface NylasContext {
  tenant: SimTenant;
  control: NylasControl;
  /** The region this server plays. */
  region: NylasRegion;
  logger: Logger;
  fetch?: typeof fetch;
}

const MAX_GRANTS_LIMIT = 200;

/** The query parameters the spec lists for `GET /v3/grants` (operation `get-all-grants`). */
export const GRANTS_QUERY_PARAMETERS: readonly string[] = [
  "account_id",
  "account_ids",
  "before",
  "email",
  "grant_status",
  "ip",
  "limit",
  "offset",
  "order_by",
  "provider",
  "since",
  "sort_by",
  "workspace_id",
];
const CHALLENGE_TIMEOUT_MS = 10_000;

/** The connector as GET returns it: never the client secret. */
export function renderConnector(connector: SimConnector): Record<string, unknown> {
  const { client_secret: _secret, ...settings } = connector.settings;
  return {
    name: connector.name,
    provider: connector.provider,
    settings,
    scope: [...connector.scope],
    ...(connector.active_credential_id !== undefined
      ? { active_credential_id: connector.active_credential_id }
      : {}),
  };
}

/** The Grant object as the API returns it (internal fields dropped). */
export function renderGrant(grant: SimGrant): Record<string, unknown> {
  const { secretKeyId: _k, clientId: _c, ...visible } = grant;
  return { ...visible, scope: [...grant.scope] };
}

function renderWebhook(webhook: SimWebhook, withSecret: boolean): Record<string, unknown> {
  const { webhook_secret, signatureStyle: _style, ...rest } = webhook;
  const visible = { ...rest, compressed_delivery: webhook.compressed_delivery ?? false };
  return withSecret ? { ...visible, webhook_secret } : visible;
}

/** Creates the handler for one region's Nylas server. */
export function createNylasService(ctx: NylasContext): ServiceHandler {
  const { tenant, control } = ctx;
  const requestIdOf = requestIdsPerRequest<SimRequest>();

  const ok = (req: SimRequest, data: unknown, extra: Record<string, unknown> = {}, status = 200) =>
    jsonResponse(status, { request_id: requestIdOf(req), data, ...extra });
  const nylasError = (
    req: SimRequest,
    status: number,
    type: string,
    message: string,
    headers: Record<string, string> = {},
  ) => jsonResponse(status, { request_id: requestIdOf(req), error: { type, message } }, headers);
  const badRequest = (req: SimRequest, message: string) =>
    nylasError(req, 400, "invalid_request_error", message);
  const unauthorized = (req: SimRequest) => nylasError(req, 401, "unauthorized", "Unauthorized");
  const notFound = (req: SimRequest, message: string) => nylasError(req, 404, "not_found_error", message);
  const methodNotAllowed = (req: SimRequest, allow: string) =>
    nylasError(req, 405, "invalid_request_error", `Method ${req.method} not allowed on ${req.path}`, {
      allow,
    });

  function parseBody(req: SimRequest): { body: Record<string, unknown> } | { error: SimResponse } {
    try {
      const parsed = JSON.parse(req.body) as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error("not an object");
      return { body: parsed as Record<string, unknown> };
    } catch {
      return { error: badRequest(req, "error parsing request body") };
    }
  }

  function authorized(req: SimRequest): boolean {
    const m = /^Bearer\s+(.+)$/i.exec((req.headers.authorization ?? "").trim());
    return m?.[1] === tenant.nylas.apiKey;
  }

  // ------------------------------------------------------------ connectors

  function connectors(req: SimRequest, provider: string | undefined): SimResponse {
    const connector = tenant.nylas.connector;
    if (provider === undefined) {
      if (req.method === "GET") {
        const all = connector ? [renderConnector(connector)] : [];
        const { limit, offset } = pageParams(req, 10, 100);
        return ok(req, all.slice(offset, offset + limit), { limit, offset });
      }
      if (req.method === "POST") return createConnector(req);
      return methodNotAllowed(req, "GET, POST");
    }
    if (!connector || connector.provider !== provider) {
      if (req.method === "PUT") return methodNotAllowed(req, "GET, PATCH, DELETE");
      return notFound(req, `connector not found for provider '${provider}'`);
    }
    switch (req.method) {
      case "GET":
        return ok(req, renderConnector(connector));
      case "PATCH":
        return patchConnector(req, connector);
      case "DELETE":
        tenant.nylas.connector = undefined;
        return ok(req, { status: "success" });
      default:
        // Only PATCH is documented; the nylas SDK's connectors.update sends PUT.
        return methodNotAllowed(req, "GET, PATCH, DELETE");
    }
  }

  function createConnector(req: SimRequest): SimResponse {
    const parsedBody = parseBody(req);
    if ("error" in parsedBody) return parsedBody.error;
    const body = parsedBody.body;
    if (body.provider !== "microsoft")
      return badRequest(req, "the simulator supports only the 'microsoft' connector");
    if (tenant.nylas.connector)
      return nylasError(req, 409, "conflict", "connector already exists for provider 'microsoft'");
    const settings = body.settings;
    if (settings === null || typeof settings !== "object" || Array.isArray(settings)) {
      return badRequest(req, "settings.client_id and settings.client_secret are required");
    }
    const s = settings as Record<string, unknown>;
    if (typeof s.client_id !== "string" || typeof s.client_secret !== "string") {
      return badRequest(req, "settings.client_id and settings.client_secret are required");
    }
    const scope = body.scope;
    if (scope !== undefined && !isStringArray(scope))
      return badRequest(req, "scope must be an array of strings");
    tenant.nylas.connector = {
      id: newGuid(),
      provider: "microsoft",
      name: typeof body.name === "string" ? body.name : "microsoft",
      settings: { ...s },
      scope: scope ?? [],
    };
    return ok(req, renderConnector(tenant.nylas.connector), {}, 201);
  }

  function patchConnector(req: SimRequest, connector: SimConnector): SimResponse {
    const parsedBody = parseBody(req);
    if ("error" in parsedBody) return parsedBody.error;
    const problem = fieldProblem(parsedBody.body, CONNECTOR_PATCH_RULES);
    if (problem !== undefined) return badRequest(req, problem);
    const { settings, scope, name, active_credential_id: activeCredentialId } = parsedBody.body;
    const previousSecret = connector.settings.client_secret;
    // "Nylas replaces all data in the nested object with the information included in your request":
    // a PATCH carrying only client_secret loses client_id and tenant.
    if (settings !== undefined) connector.settings = { ...(settings as Record<string, unknown>) };
    if (isStringArray(scope)) connector.scope = [...scope];
    if (typeof name === "string") connector.name = name;
    // active_credential_id changes only when the body sets it.
    if (typeof activeCredentialId === "string") connector.active_credential_id = activeCredentialId;
    const nextSecret = connector.settings.client_secret;
    if (typeof nextSecret === "string" && nextSecret !== previousSecret) secretChanged();
    ctx.logger.debug("sim nylas: connector updated");
    return ok(req, renderConnector(connector));
  }

  // A "moved" binding: the grants made through the app now refresh with the connector's new key.
  function secretChanged(): void {
    const current = tenant.nylas.secretBinding === "moved" ? tenant.connectorSecret() : undefined;
    if (current?.app && current.password) {
      const moved = tenant.nylas.rebindGrants(current.app.appId, current.password.keyId);
      ctx.logger.debug(`sim nylas: ${moved.length} grants moved to key ${current.password.keyId}`);
    }
  }

  // ------------------------------------------------------------ grants

  function listGrants(req: SimRequest): SimResponse {
    if (req.method !== "GET") return methodNotAllowed(req, "GET");
    const q = req.query;
    tenant.nylas.startGrantsPage(q);
    const problem = grantsQueryProblem(q, tenant.nylas.strictGrantQuery);
    if (problem !== undefined) return badRequest(req, problem);
    const [limit, offset] = [num(q, "limit", 10), num(q, "offset", 0)];
    const email = q.get("email")?.toLowerCase() ?? null;
    const cap = tenant.nylas.grantPageCap;
    const pageSize = cap === undefined ? limit : Math.max(1, Math.min(limit, cap.max));
    const echoed = { limit: cap?.echo === "cap" ? pageSize : limit, offset };
    const filters = grantFilters(q, email);
    if (email !== null && filters.length === 1) {
      // The email index answers the common "find this user's grant" query in O(1).
      const grant = tenant.nylas.grantByEmail(email);
      return ok(req, grant && offset === 0 ? [renderGrant(grant)] : [], echoed);
    }
    // Sorted once per change (cached); a page is then O(offset + limit) at worst.
    // Equal keys come in insertion order, descending as well as ascending.
    const sortBy = (q.get("sort_by") ?? "created_at") as "created_at" | "updated_at";
    const sorted = tenant.nylas.sortedGrants(sortBy, (q.get("order_by") ?? "desc") as "asc" | "desc");
    const data: Record<string, unknown>[] = [];
    let skipped = 0;
    for (let k = 0; k < sorted.length && data.length < pageSize; k++) {
      const grant = sorted[k] as SimGrant;
      if (!filters.every((f) => f(grant))) continue;
      if (skipped++ < offset) continue;
      data.push(renderGrant(grant));
    }
    return ok(req, data, echoed);
  }

  function findGrant(idOrEmail: string): SimGrant | undefined {
    if (idOrEmail.startsWith("email:")) return tenant.nylas.grantByEmail(idOrEmail.slice(6));
    if (idOrEmail.includes("@")) return tenant.nylas.grantByEmail(idOrEmail);
    return tenant.nylas.grantById(idOrEmail);
  }

  function grant(req: SimRequest, id: string): SimResponse {
    const found = findGrant(id);
    if (!found) return notFound(req, "grant not found");
    switch (req.method) {
      case "GET":
        return ok(req, renderGrant(found));
      case "PATCH": {
        const parsedBody = parseBody(req);
        if ("error" in parsedBody) return parsedBody.error;
        const body = parsedBody.body;
        if (body.scope !== undefined && !isStringArray(body.scope))
          return badRequest(req, "scope must be an array of strings");
        if (body.settings !== undefined && (typeof body.settings !== "object" || body.settings === null)) {
          return badRequest(req, "settings must be an object");
        }
        if (body.scope !== undefined) found.scope = [...body.scope];
        if (body.settings !== undefined) found.settings = { ...(body.settings as Record<string, unknown>) };
        found.updated_at = Math.floor(tenant.clock.now().getTime() / 1000);
        tenant.nylas.markChanged();
        return ok(req, renderGrant(found));
      }
      case "DELETE":
        control.deleteGrantInBackground(found.id);
        return jsonResponse(200, { request_id: requestIdOf(req) });
      default:
        return methodNotAllowed(req, "GET, PATCH, DELETE");
    }
  }

  // ------------------------------------------------------------ webhooks

  async function createWebhook(req: SimRequest): Promise<SimResponse> {
    const parsedBody = parseBody(req);
    if ("error" in parsedBody) return parsedBody.error;
    const body = parsedBody.body;
    const triggers = body.trigger_types;
    if (!isStringArray(triggers) || triggers.length === 0)
      return badRequest(req, "trigger_types is required");
    if (typeof body.webhook_url !== "string") return badRequest(req, "webhook_url is required");
    if (body.compressed_delivery !== undefined && typeof body.compressed_delivery !== "boolean")
      return badRequest(req, "compressed_delivery must be a boolean");
    const url = body.webhook_url;
    // Nylas proves the endpoint before saving it: GET ?challenge=… must echo the value within 10 s.
    const challenge = newToken(24);
    const verifyUrl = new URL(url);
    verifyUrl.searchParams.set("challenge", challenge);
    let failure: string | undefined;
    try {
      const res = await (ctx.fetch ?? fetch)(verifyUrl, {
        signal: AbortSignal.timeout(CHALLENGE_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status !== 200) failure = `status is not ok, got ${res.status}`;
      else if (text !== challenge) failure = "challenge value does not match";
    } catch (error) {
      failure = `request failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (failure !== undefined) return nylasError(req, 400, "70005", `unable.verify.webhook_url : ${failure}`);
    const webhook = tenant.nylas.addWebhook({
      webhook_url: url,
      trigger_types: triggers,
      ...(typeof body.description === "string" ? { description: body.description } : {}),
      ...(isStringArray(body.notification_email_addresses)
        ? { notification_email_addresses: body.notification_email_addresses }
        : {}),
      ...(typeof body.compressed_delivery === "boolean"
        ? { compressed_delivery: body.compressed_delivery }
        : {}),
    });
    return ok(req, renderWebhook(webhook, true));
  }

  /** POST /v3/webhooks/send-test-event `{trigger_type, webhook_url}`: one mock notification, no retries. */
  async function sendTestEvent(req: SimRequest): Promise<SimResponse> {
    if (req.method !== "POST") return methodNotAllowed(req, "POST");
    const parsedBody = parseBody(req);
    if ("error" in parsedBody) return parsedBody.error;
    const { trigger_type: trigger, webhook_url: url } = parsedBody.body;
    if (typeof trigger !== "string") return badRequest(req, "trigger_type is required");
    if (!(TEST_EVENT_TRIGGER_TYPES as readonly string[]).includes(trigger))
      return badRequest(req, `trigger_type '${trigger}' is not supported`);
    if (typeof url !== "string") return badRequest(req, "webhook_url is required");
    if (!URL.canParse(url)) return badRequest(req, "webhook_url must be a URL");
    const delivery = await control.sendTestEvent(trigger as TestEventTriggerType, url);
    // The spec's 200 body: `data` "indicates if the test event succeeded or failed".
    return ok(req, delivery.ok ? "success" : "failed");
  }

  async function webhooks(req: SimRequest, id: string | undefined, rotate: boolean): Promise<SimResponse> {
    if (id === undefined) {
      // The spec documents no paging for this list (no limit/page_token, no next_cursor): all of them.
      if (req.method === "GET")
        return ok(
          req,
          tenant.nylas.webhooks.map((w) => renderWebhook(w, false)),
        );
      if (req.method === "POST") return createWebhook(req);
      return methodNotAllowed(req, "GET, POST");
    }
    const webhook = tenant.nylas.webhooks.find((w) => w.id === id);
    if (!webhook) return notFound(req, "webhook destination not found");
    if (rotate) {
      if (req.method !== "POST") return methodNotAllowed(req, "POST");
      webhook.webhook_secret = newSecretText().replace(/[~.]/g, "x");
      webhook.updated_at = Math.floor(tenant.clock.now().getTime() / 1000);
      return ok(req, renderWebhook(webhook, true));
    }
    switch (req.method) {
      case "GET":
        return ok(req, renderWebhook(webhook, false));
      case "PUT":
        return updateWebhook(req, webhook);
      case "DELETE":
        tenant.nylas.webhooks.splice(tenant.nylas.webhooks.indexOf(webhook), 1);
        return ok(req, { status: "success" });
      default:
        return methodNotAllowed(req, "GET, PUT, DELETE");
    }
  }

  function updateWebhook(req: SimRequest, webhook: SimWebhook): SimResponse {
    const parsedBody = parseBody(req);
    if ("error" in parsedBody) return parsedBody.error;
    const body = parsedBody.body;
    const problem = fieldProblem(body, WEBHOOK_PUT_RULES);
    if (problem !== undefined) return badRequest(req, problem);
    if (isStringArray(body.trigger_types)) webhook.trigger_types = [...body.trigger_types];
    if (typeof body.compressed_delivery === "boolean") webhook.compressed_delivery = body.compressed_delivery;
    if (typeof body.webhook_url === "string") webhook.webhook_url = body.webhook_url;
    if (typeof body.description === "string") webhook.description = body.description;
    if (isStringArray(body.notification_email_addresses)) {
      webhook.notification_email_addresses = [...body.notification_email_addresses];
    }
    const now = Math.floor(tenant.clock.now().getTime() / 1000);
    if (body.status === "active" || body.status === "pause") {
      if (webhook.status !== body.status) webhook.status_updated_at = now;
      webhook.status = body.status;
      // Reactivated by hand: the failure count starts over.
      if (body.status === "active") control.resetDestinationHealth(webhook.id);
    }
    webhook.updated_at = now;
    return ok(req, renderWebhook(webhook, false));
  }

  // ------------------------------------------------------------ hosted auth

  function connectAuth(req: SimRequest): SimResponse {
    const q = req.query;
    const params = Object.fromEntries(
      ["client_id", "redirect_uri", "response_type", "provider", "login_hint", "state", "scope"]
        .map((k) => [k, q.get(k)] as const)
        .filter((e): e is [string, string] => e[1] !== null),
    );
    const result = control.authorize(params);
    switch (result.kind) {
      case "nylas_error":
        return nylasError(req, result.status, result.type, result.message);
      case "provider_page":
        return textResponse(result.status, result.text);
      case "redirect":
        return {
          status: 302,
          headers: { location: result.location, "content-type": "text/html; charset=utf-8" },
          body: "",
        };
    }
  }

  function connectToken(req: SimRequest): SimResponse {
    let body: Record<string, unknown>;
    const type = req.headers["content-type"] ?? "";
    if (type.includes("application/x-www-form-urlencoded")) {
      body = Object.fromEntries(new URLSearchParams(req.body));
    } else {
      const parsedParsed = parseBody(req);
      if ("error" in parsedParsed) return parsedParsed.error;
      body = parsedParsed.body;
    }
    const oauthError = (status: number, error: string, description: string) =>
      jsonResponse(status, {
        request_id: requestIdOf(req),
        error,
        error_description: description,
        error_code: status === 401 ? 100_001 : 100_400,
      });
    if (body.client_id !== tenant.nylas.applicationId)
      return oauthError(400, "invalid_client", "client_id is invalid");
    if (body.client_secret !== tenant.nylas.apiKey)
      return oauthError(401, "invalid_client", "client_secret is invalid");
    if (body.grant_type !== "authorization_code")
      return oauthError(400, "unsupported_grant_type", "grant_type must be authorization_code");
    if (typeof body.code !== "string") return oauthError(400, "invalid_request", "code is required");
    const grantFound = control.redeemCode(
      body.code,
      typeof body.redirect_uri === "string" ? body.redirect_uri : undefined,
    );
    if (!grantFound)
      return oauthError(400, "invalid_grant", "the code is invalid, expired or was already redeemed");
    return jsonResponse(200, {
      request_id: requestIdOf(req),
      access_token: `sim_at_${newToken(32)}`,
      token_type: "Bearer",
      id_token: `sim_id_${newToken(32)}`,
      grant_id: grantFound.id,
      email: grantFound.email,
      expires_in: 3600,
      scope: grantFound.scope.join(" "),
      provider: grantFound.provider,
    });
  }

  // ------------------------------------------------------------ routing

  type Answer = Promise<SimResponse> | SimResponse | undefined;
  // `/v3/{resource}/{a}/{b}` → its handler, undefined for no such route. A Map: a segment may be "constructor".
  const resources = new Map<string, (req: SimRequest, a?: string, b?: string) => Answer>([
    ["applications", applications],
    ["connectors", (req, a, b) => (b === undefined ? connectors(req, a) : undefined)],
    [
      "grants",
      (req, a, b) => (a === undefined ? listGrants(req) : b === undefined ? grant(req, a) : undefined),
    ],
    ["webhooks", webhookRoute],
  ]);

  function applications(req: SimRequest, a?: string, b?: string): Answer {
    if (a === "redirect-uris" && b === undefined && req.method === "GET") return ok(req, callbackUris());
    if (a !== undefined) return undefined;
    if (req.method !== "GET") return methodNotAllowed(req, "GET");
    return ok(req, {
      application_id: tenant.nylas.applicationId,
      organization_id: tenant.nylas.organizationId,
      region: tenant.nylas.region,
      environment: "production",
      branding: { name: "secret-watchdog simulator" },
      callback_uris: callbackUris(),
    });
  }

  function webhookRoute(req: SimRequest, a?: string, b?: string): Answer {
    if (a === "rotate-secret" && b !== undefined) return webhooks(req, b, true);
    if (a === "send-test-event" && b === undefined) return sendTestEvent(req);
    return b === undefined ? webhooks(req, a, false) : undefined;
  }

  async function route(req: SimRequest): Promise<SimResponse> {
    if (tenant.nylas.region !== ctx.region) return unauthorized(req);
    const path = req.path.replace(/\/+$/, "");
    if (path === "/v3/connect/auth")
      return req.method === "GET" ? connectAuth(req) : methodNotAllowed(req, "GET");
    if (path === "/v3/connect/token")
      return req.method === "POST" ? connectToken(req) : methodNotAllowed(req, "POST");
    if (!authorized(req)) return unauthorized(req);
    const [v3, resource, a, b] = path.split("/").filter(Boolean).map(safeDecode);
    const answer = v3 === "v3" && resource !== undefined ? resources.get(resource)?.(req, a, b) : undefined;
    return (await answer) ?? notFound(req, "route not found");
  }

  function callbackUris(): Record<string, unknown>[] {
    return tenant.nylas.callbackUris.map((url, i) => ({
      id: `cb-${i}-${tenant.nylas.applicationId.slice(0, 8)}`,
      platform: "web",
      url,
    }));
  }

  return {
    handle: route,

    errorResponse(status, req) {
      if (status === 429) {
        return nylasError(req, 429, "rate_limit_error", "Too many requests, please try again shortly.");
      }
      const type = status === 504 ? "provider_error" : "api_error";
      if (status >= 500) return nylasError(req, status, type, "Internal server error.");
      if (status === 401) return unauthorized(req);
      if (status === 404) return notFound(req, "Resource not found");
      return nylasError(req, status, "invalid_request_error", "Bad request");
    },

    finalize(req, res) {
      return { ...res, headers: { "x-request-id": requestIdOf(req), ...res.headers } };
    },
  };
}

type Rule<T> = [ok: (value: T) => boolean, problem: string];
/** The problem of the first rule `body` breaks: each applies to its field when the body has it. */
function fieldProblem(body: Record<string, unknown>, rules: [field: string, ...Rule<unknown>][]) {
  return rules.find(([field, ok]) => body[field] !== undefined && !ok(body[field]))?.[2];
}
const isString = (v: unknown) => typeof v === "string";
const CONNECTOR_PATCH_RULES: [field: string, ...Rule<unknown>][] = [
  ["settings", (v) => v !== null && typeof v === "object" && !Array.isArray(v), "settings must be an object"],
  ["scope", isStringArray, "scope must be an array of strings"],
  ["name", isString, "name must be a string"],
  ["active_credential_id", isString, "active_credential_id must be a string"],
];
const WEBHOOK_PUT_RULES: [field: string, ...Rule<unknown>][] = [
  ["trigger_types", isStringArray, "trigger_types must be an array of strings"],
  ["compressed_delivery", (v) => typeof v === "boolean", "compressed_delivery must be a boolean"],
];

const oneOf = (name: string, values: string[]) => (q: URLSearchParams) =>
  values.includes(q.get(name) ?? values[0]!);
const num = (q: URLSearchParams, name: string, fallback: number) => Number(q.get(name) ?? fallback);
const integer = (name: string, min: number, fallback: number) => (q: URLSearchParams) =>
  Number.isInteger(num(q, name, fallback)) && num(q, name, fallback) >= min;
/** `GET /v3/grants`' query checks, in the order Nylas reports the first one broken. */
const GRANTS_QUERY_RULES: Rule<URLSearchParams>[] = [
  [integer("limit", 1, 10), "limit must be a positive integer"],
  [(q) => num(q, "limit", 10) <= MAX_GRANTS_LIMIT, `limit must be less than or equal to ${MAX_GRANTS_LIMIT}`],
  [integer("offset", 0, 0), "offset must be a non-negative integer"],
  [oneOf("sort_by", ["created_at", "updated_at"]), "sort_by must be created_at or updated_at"],
  [oneOf("order_by", ["asc", "desc"]), "order_by must be asc or desc"],
  [oneOf("grant_status", ["valid", "invalid"]), "grant_status must be valid or invalid"],
  [
    (q) => intParam(q.get("since")) !== null && intParam(q.get("before")) !== null,
    "since and before must be unix timestamps in seconds",
  ],
];

function grantsQueryProblem(q: URLSearchParams, strict: boolean): string | undefined {
  const unknown = strict ? [...new Set(q.keys())].filter((k) => !GRANTS_QUERY_PARAMETERS.includes(k)) : [];
  if (unknown.length > 0)
    return `unknown query parameter${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`;
  return GRANTS_QUERY_RULES.find(([ok]) => !ok(q))?.[1];
}

/** What a (valid) grants query keeps. */
function grantFilters(q: URLSearchParams, email: string | null): ((g: SimGrant) => boolean)[] {
  const [status, provider] = [q.get("grant_status"), q.get("provider")];
  const [since, before] = [intParam(q.get("since")), intParam(q.get("before"))];
  const filters: ((g: SimGrant) => boolean)[] = [];
  if (status !== null) filters.push((g) => g.grant_status === status);
  if (provider !== null) filters.push((g) => g.provider === provider);
  if (email !== null) filters.push((g) => g.email.toLowerCase() === email);
  if (typeof since === "number") filters.push((g) => g.created_at >= since);
  if (typeof before === "number") filters.push((g) => g.created_at <= before);
  return filters;
}

function pageParams(
  req: SimRequest,
  defaultLimit: number,
  maxLimit: number,
): { limit: number; offset: number } {
  const limit = Math.min(
    maxLimit,
    Math.max(1, Number(req.query.get("limit") ?? defaultLimit) || defaultLimit),
  );
  const offset = Math.max(0, Number(req.query.get("offset") ?? 0) || 0);
  return { limit, offset };
}

/** `undefined` when absent, `null` when not an integer. */
function intParam(value: string | null): number | undefined | null {
  if (value === null) return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : null;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
