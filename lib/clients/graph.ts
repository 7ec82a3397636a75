/**
 * Microsoft Graph as this product needs it: application registrations and their
 * credentials, plus what `doctor` reads (service principals, consent grants,
 * app role assignments). Built on the official client, whose RetryHandler
 * already retries reads on 429/503/504 honouring Retry-After (3 times); `$batch`
 * sub-responses are throttled one by one, so those are retried here.
 *
 * Writes (addPassword, removePassword) are sent exactly once: the RetryHandler
 * would replay a POST that answered 504 after creating a secret, leaving a
 * second one (on apps open to personal accounts, capped at two secrets, the
 * next rotation then fails). The rotation reads back and reconciles instead.
 */
import type { Client } from "@microsoft/microsoft-graph-client";
import type { TokenCredential } from "@azure/identity";
import { HttpError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { graphScope } from "./credential.js";
import { parseRetryAfter } from "./http.js";

export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  /** First three characters of the secret; Graph never returns the rest. */
  hint: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
}

export interface KeyCredential {
  keyId: string;
  displayName: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
  type: string | null;
  usage: string | null;
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: string }[];
}

export interface GraphApplication {
  id: string;
  appId: string;
  displayName: string | null;
  signInAudience?: string;
  passwordCredentials: PasswordCredential[];
  keyCredentials: KeyCredential[];
  web?: { redirectUris: string[] };
  spa?: { redirectUris: string[] };
  publicClient?: { redirectUris: string[] };
  requiredResourceAccess?: RequiredResourceAccess[];
}

/** What `addPassword` returns: the only moment the secret value exists outside Entra. */
export interface NewPassword extends PasswordCredential {
  secretText: string;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string | null;
  oauth2PermissionScopes?: { id: string; value: string }[];
  appRoles?: { id: string; value: string | null }[];
}

export interface OAuth2PermissionGrant {
  id: string;
  clientId: string;
  consentType: string;
  principalId: string | null;
  resourceId: string;
  scope: string;
}

export interface AppRoleAssignment {
  id: string;
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

/** The properties a credential scan needs; `$select` keeps pages small. */
export const CREDENTIAL_SELECT = [
  "id",
  "appId",
  "displayName",
  "passwordCredentials",
  "keyCredentials",
] as const;

/**
 * The same without certificates, for reading every app of a tenant
 * (WATCH_APP_IDS=*): selecting keyCredentials is throttled at 150 requests per
 * minute per tenant (Graph docs, "Get application"), and a tenant-wide listing
 * would spend that budget on apps nobody asked about.
 */
export const PASSWORD_SELECT = ["id", "appId", "displayName", "passwordCredentials"] as const;

/** Graph's documented maximum page size for /applications. */
export const MAX_APPLICATIONS_PAGE = 999;
/** Graph's documented maximum requests per `$batch`. */
export const MAX_BATCH = 20;

export interface GraphClientOptions {
  credential: TokenCredential;
  /** Graph root without version, e.g. https://graph.microsoft.com (sovereign clouds: no version in it). */
  endpoint: string;
  clock: Clock;
  logger: Logger;
}

interface RawGraphError {
  statusCode?: number;
  code?: string | null;
  requestId?: string | null;
  body?: string | null;
  message?: string;
  headers?: Headers;
}

const REMEDIATION: Record<number, string> = {
  401: " The Graph token was refused: check AZURE_TENANT_ID and the watchdog's credential (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or the managed identity).",
  403: " The watchdog's identity lacks permission: grant it the Microsoft Graph application permission Application.ReadWrite.OwnedBy and add it as an owner of the app registration (README, 'Graph permission'), or grant Application.ReadWrite.All.",
  429: " Graph is throttling this tenant; the call was retried. Try again later.",
};

/** Turns a GraphError (or anything thrown by the Graph client) into an HttpError that says what to do. */
export function toGraphHttpError(error: unknown, what: string): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as RawGraphError;
  const status = typeof e.statusCode === "number" && e.statusCode > 0 ? e.statusCode : 0;
  let detail = e.message ?? String(error);
  if (typeof e.body === "string") {
    try {
      const parsed = JSON.parse(e.body) as { error?: { message?: string } };
      detail = parsed.error?.message ?? detail;
    } catch {
      // Not JSON: keep the client's message.
    }
  }
  return new HttpError(
    `graph: ${what} failed${status ? ` (${status}${e.code ? ` ${e.code}` : ""})` : ""}: ${detail}${REMEDIATION[status] ?? (status === 0 ? " Check that GRAPH_ENDPOINT is reachable." : "")}`,
    {
      service: "graph",
      statusCode: status,
      code: e.code ?? undefined,
      requestId: e.requestId ?? undefined,
      body: typeof e.body === "string" ? e.body : undefined,
      retryAfterMs: parseRetryAfter(e.headers?.get?.("retry-after") ?? null, Date.now()),
      ambiguous: status === 0 || status >= 500,
      cause: error,
    },
  );
}

interface BatchResponse {
  responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[];
}

function normalizeApp(raw: Partial<GraphApplication> & { id: string; appId: string }): GraphApplication {
  return {
    ...raw,
    displayName: raw.displayName ?? null,
    passwordCredentials: raw.passwordCredentials ?? [],
    keyCredentials: raw.keyCredentials ?? [],
  };
}

/** Per credential (keyId): when Entra last saw it sign in, "across all flows"; null = never. */
export interface CredentialSignIn {
  keyId: string;
  keyType: string | null;
  lastSignInDateTime: string | null;
}

export class GraphClient {
  readonly endpoint: string;
  readonly #client: Client;
  #noRetry: unknown;
  readonly #credential: TokenCredential;
  readonly #clock: Clock;
  readonly #logger: Logger;

  private constructor(client: Client, options: GraphClientOptions) {
    this.#client = client;
    this.#credential = options.credential;
    this.endpoint = options.endpoint;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** Loads the Graph SDK on demand (cold start: the webhook path never needs it). */
  static async create(options: GraphClientOptions): Promise<GraphClient> {
    const { Client, RetryHandlerOptions, TokenCredentialAuthenticationProvider } =
      await import("./graph-sdk.js");
    const host = new URL(options.endpoint).hostname;
    const client = Client.initWithMiddleware({
      authProvider: new TokenCredentialAuthenticationProvider(options.credential, {
        scopes: [graphScope(options.endpoint)],
      }),
      baseUrl: options.endpoint.replace(/\/+$/, "") + "/",
      defaultVersion: "v1.0",
      // The client sends the token only to hosts it knows; sovereign and test hosts must be named.
      customHosts: new Set([host]),
    });
    const graph = new GraphClient(client, options);
    // maxRetries 0: the RetryHandler hands every answer straight back for writes.
    graph.#noRetry = new RetryHandlerOptions(0, 0, () => false);
    return graph;
  }

  async #get<T>(what: string, path: string, query: Record<string, string> = {}): Promise<T> {
    try {
      let request = this.#client.api(path);
      for (const [k, v] of Object.entries(query)) request = request.query({ [k]: v });
      return (await request.get()) as T;
    } catch (error) {
      throw toGraphHttpError(error, what);
    }
  }

  /**
   * The claims of the watchdog's own Graph token (`oid`, `appid`, `tid`,
   * `roles`): who the watchdog is and which application permissions it holds,
   * without needing extra directory permissions to find out. Decoded, not
   * verified — it came straight from Entra over TLS.
   */
  async tokenClaims(): Promise<Record<string, unknown>> {
    const token = await this.#credential.getToken(graphScope(this.endpoint));
    if (token === null)
      throw new HttpError("graph: no token was issued for the watchdog's identity.", {
        service: "entra",
        statusCode: 0,
      });
    const payload = token.token.split(".")[1];
    if (payload === undefined) return {};
    try {
      return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  /** An app registration by its application (client) id, or undefined when this tenant has none. */
  async getApplicationByAppId(
    appId: string,
    select: readonly string[] = CREDENTIAL_SELECT,
  ): Promise<GraphApplication | undefined> {
    try {
      const raw = await this.#get<GraphApplication>(
        `reading application ${appId}`,
        `/applications(appId='${encodeURIComponent(appId)}')`,
        { $select: select.join(",") },
      );
      return normalizeApp(raw);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /**
   * Many apps by application id through `$batch`, 20 per request. Each
   * sub-request is throttled on its own, so a sub-response 429 is retried alone
   * after its Retry-After. Yields every requested id once: with the app, with
   * undefined when the tenant has no such app, or with the error when it could
   * not be read (refused, or still throttled after the retries) — one app that
   * cannot be read never stops the others.
   */
  async *getApplicationsByAppIds(
    appIds: readonly string[],
    select: readonly string[] = CREDENTIAL_SELECT,
  ): AsyncGenerator<{ appId: string; app: GraphApplication | undefined; error?: HttpError }> {
    for (let i = 0; i < appIds.length; i += MAX_BATCH) {
      let pending = appIds.slice(i, i + MAX_BATCH);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const requests = pending.map((appId, n) => ({
          id: String(n),
          method: "GET",
          url: `/applications(appId='${encodeURIComponent(appId)}')?$select=${select.join(",")}`,
        }));
        let batch: BatchResponse;
        try {
          batch = (await this.#client.api("/$batch").post({ requests })) as BatchResponse;
        } catch (error) {
          throw toGraphHttpError(error, "reading applications ($batch)");
        }
        const retry: string[] = [];
        let waitMs = 0;
        for (const response of batch.responses) {
          const appId = pending[Number(response.id)];
          if (appId === undefined) continue;
          if (response.status === 200) {
            yield { appId, app: normalizeApp(response.body as GraphApplication) };
          } else if (response.status === 404) {
            yield { appId, app: undefined };
          } else if (
            (response.status === 429 || response.status === 503 || response.status === 504) &&
            attempt < 5
          ) {
            retry.push(appId);
            const after = parseRetryAfter(
              response.headers?.["Retry-After"] ?? response.headers?.["retry-after"] ?? null,
              Date.now(),
            );
            waitMs = Math.max(waitMs, Math.min(after ?? 2 ** attempt * 500, 60_000));
          } else {
            const body = JSON.stringify(response.body ?? {});
            yield {
              appId,
              app: undefined,
              error: toGraphHttpError(
                {
                  statusCode: response.status,
                  code: (response.body as { error?: { code?: string } } | undefined)?.error?.code,
                  body,
                  message: `status ${response.status}`,
                },
                `reading application ${appId} ($batch)`,
              ),
            };
          }
        }
        if (retry.length > 0) {
          this.#logger.warn(
            `graph: ${retry.length} batched read(s) throttled; retrying in ${Math.round(waitMs / 1000)} s`,
          );
          await this.#clock.sleep(waitMs);
        }
        pending = retry;
      }
    }
  }

  /** Every application the identity can read, a page (≤999) at a time, following @odata.nextLink. */
  async *listApplicationPages(
    select: readonly string[] = CREDENTIAL_SELECT,
    top = MAX_APPLICATIONS_PAGE,
  ): AsyncGenerator<GraphApplication[]> {
    let page = await this.#get<{ value: GraphApplication[]; "@odata.nextLink"?: string }>(
      "listing applications",
      "/applications",
      { $select: select.join(","), $top: String(top) },
    );
    for (;;) {
      const next = page["@odata.nextLink"];
      // Read-ahead: the next page is requested before this one is handed over, so Graph's time to
      // produce it overlaps the caller's time to process this one. At most two pages are held, so
      // memory stays flat however large the tenant. The whole nextLink is followed as given: its
      // $skiptoken is opaque.
      const ahead =
        next === undefined ? undefined : this.#get<typeof page>("listing applications (next page)", next);
      // Observed by the await below; this keeps a failure from being unhandled if the caller stops early.
      ahead?.catch(() => undefined);
      if (page.value.length > 0) yield page.value.map(normalizeApp);
      if (ahead === undefined) return;
      page = await ahead;
    }
  }

  /** Creates a secret. The returned `secretText` must go straight to its one consumer and nowhere else. */
  async addPassword(
    objectId: string,
    credential: { displayName: string; endDateTime: string },
  ): Promise<NewPassword> {
    try {
      return (await this.#client
        .api(`/applications/${encodeURIComponent(objectId)}/addPassword`)
        .middlewareOptions([this.#noRetry as never])
        .post({ passwordCredential: credential })) as NewPassword;
    } catch (error) {
      throw toGraphHttpError(error, "adding a client secret");
    }
  }

  async removePassword(objectId: string, keyId: string): Promise<void> {
    try {
      await this.#client
        .api(`/applications/${encodeURIComponent(objectId)}/removePassword`)
        .middlewareOptions([this.#noRetry as never])
        .post({ keyId });
    } catch (error) {
      throw toGraphHttpError(error, `removing client secret ${keyId}`);
    }
  }

  /**
   * Entra's per-credential sign-in activity for one app (beta report
   * `appCredentialSignInActivities`, permission AuditLog.Read.All). Throws
   * HttpError 403 where the tenant lacks the permission or the licence, and
   * 400/404 where the cloud has no such report: the caller falls back.
   */
  async listCredentialSignIns(appId: string): Promise<CredentialSignIn[]> {
    const root = this.endpoint.replace(/\/+$/, "");
    const rows = await this.#collect<{
      keyId?: string;
      keyType?: string | null;
      signInActivity?: { lastSignInDateTime?: string | null } | null;
    }>("reading credential sign-in activity", `${root}/beta/reports/appCredentialSignInActivities`, {
      $filter: `appId eq '${appId}'`,
    });
    return rows
      .filter((r): r is typeof r & { keyId: string } => typeof r.keyId === "string")
      .map((r) => ({
        keyId: r.keyId,
        keyType: r.keyType ?? null,
        lastSignInDateTime: r.signInActivity?.lastSignInDateTime ?? null,
      }));
  }

  async getServicePrincipalByAppId(
    appId: string,
    select?: readonly string[],
  ): Promise<ServicePrincipal | undefined> {
    const result = await this.#get<{ value: ServicePrincipal[] }>(
      `finding the service principal of ${appId}`,
      "/servicePrincipals",
      { $filter: `appId eq '${appId}'`, ...(select ? { $select: select.join(",") } : {}) },
    );
    return result.value[0];
  }

  async listOAuth2PermissionGrants(clientServicePrincipalId: string): Promise<OAuth2PermissionGrant[]> {
    return this.#collect<OAuth2PermissionGrant>(
      "listing delegated permission grants",
      "/oauth2PermissionGrants",
      {
        $filter: `clientId eq '${clientServicePrincipalId}'`,
      },
    );
  }

  async listAppRoleAssignments(servicePrincipalId: string): Promise<AppRoleAssignment[]> {
    return this.#collect<AppRoleAssignment>(
      "listing app role assignments",
      `/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/appRoleAssignments`,
    );
  }

  async listOwnerIds(applicationObjectId: string): Promise<string[]> {
    const owners = await this.#collect<{ id: string }>(
      "listing application owners",
      `/applications/${encodeURIComponent(applicationObjectId)}/owners`,
      { $select: "id" },
    );
    return owners.map((o) => o.id);
  }

  // Small collections only (grants of one app, owners): bounded by Graph's own limits.
  async #collect<T>(what: string, path: string, query: Record<string, string> = {}): Promise<T[]> {
    const out: T[] = [];
    let page = await this.#get<{ value: T[]; "@odata.nextLink"?: string }>(what, path, query);
    for (;;) {
      out.push(...page.value);
      const next = page["@odata.nextLink"];
      if (next === undefined) return out;
      page = await this.#get<typeof page>(what, next);
    }
  }
}
