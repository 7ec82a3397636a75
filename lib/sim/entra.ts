/**
 * Simulated Microsoft Entra ID token service (login.microsoftonline.com):
 * OIDC discovery and the client-credentials token endpoint, with the AADSTS
 * errors the product must recognise (700016, 7000215, 7000222, …) in the
 * exact JSON shape MSAL parses.
 */
import type { Logger } from "../logger.js";
import { newGuid, requestIdsPerRequest } from "./ids.js";
import { jsonResponse, type ServiceHandler, type SimRequest, type SimResponse } from "./http.js";
import type { SecretCheck, SimApp, SimTenant } from "./tenant.js";
import type { TokenSigner } from "./token.js";
import { GRAPH_APP_ID } from "./well-known.js";

/** What the Entra handler needs. */
export interface EntraContext {
  tenant: SimTenant;
  signer: TokenSigner;
  /** `https://127.0.0.1:<port>` of this service. */
  authorityHost: () => string;
  /** The simulated Graph root, accepted as a token audience besides graph.microsoft.com. */
  graphEndpoint: () => string;
  logger: Logger;
}

/** Audiences that mean "Microsoft Graph". */
export function graphAudiences(graphEndpoint: string): Set<string> {
  return new Set(["https://graph.microsoft.com", graphEndpoint.replace(/\/+$/, ""), GRAPH_APP_ID]);
}

/** Entra's timestamp format in error bodies: `2026-11-23 12:00:00Z`. */
function entraTimestamp(d: Date): string {
  return d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** Everything an Entra error carries; also used for Nylas' auth log. */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** Builds an Entra error body (`AADSTS<code>: <text> Trace ID: … Correlation ID: … Timestamp: …`). */
export function entraErrorBody(
  error: string,
  code: number,
  text: string,
  now: Date,
  correlationId: string = newGuid(),
): EntraErrorBody {
  const traceId = newGuid();
  const timestamp = entraTimestamp(now);
  return {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

/** The text of AADSTS7000215 for an app. */
export function invalidSecretText(appId: string): string {
  return (
    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, " +
    `not the client secret ID, for a secret added to app '${appId}'.`
  );
}

/** The text of AADSTS7000222 for an app. */
export function expiredSecretText(appId: string): string {
  return (
    `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys ` +
    "for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added " +
    "security: https://aka.ms/certCreds."
  );
}

/** The text of AADSTS700016. */
export function appNotFoundText(appId: string, directory: string): string {
  return (
    `Application with identifier '${appId}' was not found in the directory '${directory}'. This can happen if ` +
    "the application has not been installed by the administrator of the tenant or consented to by any user in " +
    "the tenant. You may have sent your authentication request to the wrong tenant."
  );
}

/** The text of AADSTS90002. */
export function tenantNotFoundText(tenant: string): string {
  return (
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the ` +
    "correct cloud. Check with your subscription administrator, this may happen if there are no active " +
    "subscriptions for the tenant."
  );
}

/** The AADSTS code a refused secret gets: 7000222 when expired (or `check.code` says so), else 7000215. */
export function refusalCode(check: SecretCheck): 7000215 | 7000222 {
  if (check.ok) throw new Error("the secret was accepted");
  if (check.code !== undefined) return check.code === "7000222" ? 7000222 : 7000215;
  return check.reason === "expired" ? 7000222 : 7000215;
}

/** Whether `segment` names the simulated tenant (its id or its domain). */
export function isTenantSegment(tenant: SimTenant, segment: string): boolean {
  const s = segment.toLowerCase();
  return s === tenant.tenantId.toLowerCase() || s === tenant.domain.toLowerCase();
}

const TOKEN_LIFETIME_S = 3599;
const MUST_CONTAIN = "The request body must contain the following parameter: ";
/** What a client-credentials request asks a token for. */
type TokenTarget = { app: SimApp; resource: string };

/** Creates the Entra request handler. */
export function createEntraService(ctx: EntraContext): ServiceHandler {
  const { tenant } = ctx;
  // The id a token response carries in x-ms-request-id is the sign-in's request id.
  const requestIdOf = requestIdsPerRequest<SimRequest>();

  const error = (req: SimRequest, status: number, err: string, code: number, text: string): SimResponse =>
    jsonResponse(status, entraErrorBody(err, code, text, tenant.clock.now(), correlationOf(req)), {
      "cache-control": "no-store, no-cache",
    });

  function openIdConfiguration(segment: string): SimResponse {
    const h = ctx.authorityHost();
    const t = tenant.tenantId;
    return jsonResponse(200, {
      token_endpoint: `${h}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${h}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${h}/${t}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: "https://graph.microsoft.com/oidc/userinfo",
      authorization_endpoint: `${h}/${segment}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${h}/${segment}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${h}/${segment}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver", "oid"],
      kerberos_endpoint: `${h}/${segment}/kerberos`,
      tenant_region_scope: "NA",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: "graph.microsoft.com",
      rbac_url: "https://pas.windows.net",
    });
  }

  /** The client's id and secret: form fields first, then client_secret_basic. */
  function clientCredentials(req: SimRequest, form: URLSearchParams) {
    let clientId = form.get("client_id") ?? undefined;
    let secret = form.get("client_secret") ?? undefined;
    // RFC 6749 §2.3.1 client_secret_basic: both parts form-urlencoded, then base64.
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith("basic ")) {
      const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) {
        clientId ??= decodeFormComponent(decoded.slice(0, colon));
        secret ??= decodeFormComponent(decoded.slice(colon + 1));
      }
    }
    return { clientId, secret };
  }

  /** The app and the resource a client-credentials request names, or the error refusing the request. */
  function tokenTarget(req: SimRequest, form: URLSearchParams, clientId?: string): SimResponse | TokenTarget {
    const grantType = form.get("grant_type");
    const scope = form.get("scope");
    const missing = (name: string) => error(req, 400, "invalid_request", 900144, `${MUST_CONTAIN}'${name}'.`);

    if (!grantType) return missing("grant_type");
    if (grantType !== "client_credentials") {
      const text = `The app requested an unsupported grant type '${grantType}'.`;
      return error(req, 400, "unsupported_grant_type", 70003, text);
    }
    if (!clientId) return missing("client_id");
    if (!scope) return missing("scope");

    const app = tenant.appByAppId(clientId);
    if (!app)
      return error(req, 400, "unauthorized_client", 700016, appNotFoundText(clientId, tenant.displayName));

    const scopes = scope.split(" ").filter(Boolean);
    const only = scopes.length === 1 ? scopes[0] : undefined;
    if (only === undefined || !only.endsWith("/.default")) {
      return error(
        req,
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value ` +
          "with /.default suffixed to the resource identifier (application ID URI).",
      );
    }
    const resource = only.slice(0, -"/.default".length).replace(/\/+$/, "");
    if (!graphAudiences(ctx.graphEndpoint()).has(resource)) {
      return error(
        req,
        400,
        "invalid_resource",
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}. This ` +
          "can happen if the application has not been installed by the administrator of the tenant or consented " +
          "to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
      );
    }
    return { app, resource };
  }

  function token(req: SimRequest): SimResponse {
    const form = new URLSearchParams(req.body);
    const { clientId, secret } = clientCredentials(req, form);
    const target = tokenTarget(req, form, clientId);
    if ("status" in target) return target;
    const { app, resource } = target;

    if (secret === undefined || secret === "") {
      if (form.has("client_assertion")) {
        return error(req, 401, "invalid_client", 700027, "Client assertion failed signature validation.");
      }
      const text = `${MUST_CONTAIN}'client_assertion' or 'client_secret'.`;
      return error(req, 401, "invalid_client", 7000218, text);
    }

    // One token request: replica disagreement (tenant.propagationFlaps) advances with it.
    const check = tenant.presentSecret(app, secret);
    if (!check.ok) {
      ctx.logger.debug(`sim entra: secret refused for ${app.appId} (${check.reason})`);
      if (refusalCode(check) === 7000222) {
        return error(req, 401, "invalid_client", 7000222, expiredSecretText(app.appId));
      }
      return error(req, 401, "invalid_client", 7000215, invalidSecretText(app.appId));
    }

    const sp = tenant.spByAppId(app.appId);
    if (!sp) {
      return error(
        req,
        400,
        "invalid_client",
        7000229,
        `The client application ${app.appId} is missing service principal in the tenant ${tenant.tenantId}. ` +
          "See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
      );
    }
    if (!sp.accountEnabled) {
      return error(
        req,
        401,
        "unauthorized_client",
        7000112,
        `Application '${app.appId}'(${app.displayName}) is disabled.`,
      );
    }

    // A token issued with this secret: a sign-in the credential activity report counts.
    tenant.recordSignIn(app.id, check.password.keyId, tenant.clock.now(), requestIdOf(req));

    const now = Math.floor(tenant.clock.now().getTime() / 1000);
    const wall = Math.floor(Date.now() / 1000);
    const roles = tenant.rolesOf(sp.id);
    const issuer = `https://sts.windows.net/${tenant.tenantId}/`;
    const accessToken = ctx.signer.sign({
      aud: resource,
      iss: issuer,
      iat: now,
      nbf: now,
      exp: now + TOKEN_LIFETIME_S,
      appid: app.appId,
      app_displayname: app.displayName,
      appidacr: "1",
      idp: issuer,
      idtyp: "app",
      oid: sp.id,
      sub: sp.id,
      tid: tenant.tenantId,
      ...(roles.length > 0 ? { roles } : {}),
      uti: newGuid().replaceAll("-", "").slice(0, 22),
      ver: "1.0",
      xms_sim_rexp: wall + TOKEN_LIFETIME_S,
    });
    return jsonResponse(
      200,
      {
        token_type: "Bearer",
        expires_in: TOKEN_LIFETIME_S,
        ext_expires_in: TOKEN_LIFETIME_S,
        access_token: accessToken,
      },
      { "cache-control": "no-store, no-cache" },
    );
  }

  return {
    handle(req) {
      const segments = req.path.split("/").filter(Boolean);
      const segment = segments[0] === undefined ? "" : decodeURIComponent(segments[0]);
      const rest = segments.slice(1).join("/");
      const known =
        rest === "v2.0/.well-known/openid-configuration" ||
        rest === "oauth2/v2.0/token" ||
        rest === "discovery/v2.0/keys";
      if (!known) {
        return error(
          req,
          404,
          "invalid_request",
          90100,
          `The endpoint '${req.path}' is not supported by the simulator.`,
        );
      }
      if (!isTenantSegment(tenant, segment)) {
        return error(req, 400, "invalid_tenant", 90002, tenantNotFoundText(segment));
      }
      if (rest === "oauth2/v2.0/token") {
        if (req.method !== "POST") {
          return error(req, 405, "invalid_request", 900561, "The endpoint only accepts POST requests.");
        }
        return token(req);
      }
      if (req.method !== "GET") {
        return error(req, 405, "invalid_request", 900561, "The endpoint only accepts GET requests.");
      }
      if (rest === "discovery/v2.0/keys") return jsonResponse(200, { keys: [] });
      return openIdConfiguration(segment);
    },

    errorResponse(status, req) {
      if (status === 429) {
        return error(
          req,
          429,
          "temporarily_unavailable",
          50196,
          "The server terminated an operation because it encountered a client request loop.",
        );
      }
      if (status >= 500) {
        return error(
          req,
          status,
          "temporarily_unavailable",
          90033,
          "A transient error has occurred. Please try again.",
        );
      }
      return error(req, status, "invalid_request", 90014, "The request is invalid.");
    },

    finalize(req, res) {
      return {
        ...res,
        headers: {
          "x-ms-request-id": requestIdOf(req),
          "client-request-id": correlationOf(req),
          "x-ms-ests-server": "2.1.sim",
          ...res.headers,
        },
      };
    },
  };
}

function correlationOf(req: SimRequest): string {
  return req.headers["client-request-id"] ?? req.query.get("client-request-id") ?? newGuid();
}

function decodeFormComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}
