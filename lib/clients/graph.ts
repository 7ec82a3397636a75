/**
 * Microsoft Graph as this product needs it: application registrations and their
 * credentials, plus what `doctor` reads (service principals, consent grants,
 * app role assignments). Built on the official client with its RetryHandler
 * left out: reads are retried by the one retry policy (retry.ts, Graph's
 * predicate, waits capped at 60 s on the injected clock) instead of the
 * handler's own timer, which honoured a Retry-After of up to 180 s, 3 times.
 *
 * Writes (addPassword, removePassword) are sent exactly once: a POST that
 * answered 504 after creating a secret, replayed, would leave a second one (on
 * apps open to personal accounts, capped at two secrets, the next rotation then
 * fails). The rotation reads back and reconciles instead.
 */
import type { Client } from "@microsoft/microsoft-graph-client";
import type { TokenCredential } from "@azure/identity";
import { HttpError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { graphScope } from "./credential.js";
import { readApplicationsByAppIds, type BatchedRead } from "./graph-batch.js";
import { toGraphHttpError } from "./graph-errors.js";
import {
  CREDENTIAL_SELECT,
  MAX_APPLICATIONS_PAGE,
  normalizeApp,
  type AppRoleAssignment,
  type CredentialSignIn,
  type GraphApplication,
  type NewPassword,
  type OAuth2PermissionGrant,
  type ServicePrincipal,
  type SignInRow,
  toCredentialSignIns,
} from "./graph-types.js";
import { isTransientGraph, withRetry, type RetryPolicy } from "./retry.js";

export * from "./graph-types.js";
export { toGraphHttpError } from "./graph-errors.js";

/** Graph's reads: five attempts (the `$batch` sub-reads had five), back-off from 1 s, any wait capped at 60 s. */
export const GRAPH_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 };

export interface GraphClientOptions {
  credential: TokenCredential;
  /** Graph root without version, e.g. https://graph.microsoft.com (sovereign clouds: no version in it). */
  endpoint: string;
  clock: Clock;
  logger: Logger;
  /** Test seam: the retry policy of reads. */
  retry?: Partial<RetryPolicy>;
}

export class GraphClient {
  readonly endpoint: string;
  readonly #client: Client;
  readonly #credential: TokenCredential;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #policy: RetryPolicy;

  private constructor(client: Client, options: GraphClientOptions) {
    this.#client = client;
    this.#credential = options.credential;
    this.endpoint = options.endpoint;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#policy = { ...GRAPH_RETRY, ...options.retry };
  }

  /** Loads the Graph SDK on demand (cold start: the webhook path never needs it). */
  static async create(options: GraphClientOptions): Promise<GraphClient> {
    const sdk = await import("./graph-sdk.js");
    const host = new URL(options.endpoint).hostname;
    const authProvider = new sdk.TokenCredentialAuthenticationProvider(options.credential, {
      scopes: [graphScope(options.endpoint)],
    });
    const client = sdk.Client.initWithMiddleware({
      // The SDK's default chain minus its RetryHandler (see above).
      middleware: [
        new sdk.AuthenticationHandler(authProvider),
        new sdk.RedirectHandler(new sdk.RedirectHandlerOptions()),
        new sdk.TelemetryHandler(),
        new sdk.HTTPMessageHandler(),
      ],
      baseUrl: options.endpoint.replace(/\/+$/, "") + "/",
      defaultVersion: "v1.0",
      // The client sends the token only to hosts it knows; sovereign and test hosts must be named.
      customHosts: new Set([host]),
    });
    return new GraphClient(client, options);
  }

  /** A read (GET, or a `$batch` of GETs): retried with Graph's predicate, waits on the injected clock. */
  #read<T>(what: string, send: () => Promise<unknown>): Promise<T> {
    return withRetry(
      async () => {
        try {
          return (await send()) as T;
        } catch (error) {
          throw toGraphHttpError(error, what);
        }
      },
      {
        idempotent: true,
        transient: isTransientGraph,
        policy: this.#policy,
        sleep: (ms, signal) => this.#clock.sleep(ms, signal),
        onRetry: ({ attempt, waitMs, error }) =>
          this.#logger.warn(
            `graph: ${what} failed (${error.statusCode || "no answer"}, attempt ${attempt}); retrying in ${Math.round(waitMs / 1000)} s`,
          ),
      },
    );
  }

  #get<T>(what: string, path: string, query: Record<string, string> = {}): Promise<T> {
    return this.#read<T>(what, () => {
      let request = this.#client.api(path);
      for (const [k, v] of Object.entries(query)) request = request.query({ [k]: v });
      return request.get() as Promise<unknown>;
    });
  }

  /** A write, sent once: no retry here, whatever the answer (the caller reconciles). */
  async #postOnce<T>(what: string, path: string, body: unknown): Promise<T> {
    try {
      return (await this.#client.api(path).post(body)) as T;
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
   * Many apps by application id through `$batch`, 20 per request; a throttled
   * sub-response is retried alone (graph-batch.ts). Yields every requested id
   * once, with the app, undefined, or the error that kept it from being read.
   */
  getApplicationsByAppIds(
    appIds: readonly string[],
    select: readonly string[] = CREDENTIAL_SELECT,
  ): AsyncGenerator<BatchedRead> {
    return readApplicationsByAppIds(appIds, select, {
      post: (body) =>
        this.#read("reading applications ($batch)", () => this.#client.api("/$batch").post(body)),
      sleep: (ms, signal) => this.#clock.sleep(ms, signal),
      logger: this.#logger,
      policy: this.#policy,
    });
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
  addPassword(
    objectId: string,
    credential: { displayName: string; endDateTime: string },
  ): Promise<NewPassword> {
    const path = `/applications/${encodeURIComponent(objectId)}/addPassword`;
    return this.#postOnce("adding a client secret", path, { passwordCredential: credential });
  }

  async removePassword(objectId: string, keyId: string): Promise<void> {
    await this.#postOnce(
      `removing client secret ${keyId}`,
      `/applications/${encodeURIComponent(objectId)}/removePassword`,
      { keyId },
    );
  }

  /**
   * Entra's per-credential sign-in activity for one app (beta report
   * `appCredentialSignInActivities`, permission AuditLog.Read.All). Throws
   * HttpError 403 where the tenant lacks the permission or the licence, and
   * 400/404 where the cloud has no such report: the caller falls back.
   */
  async listCredentialSignIns(appId: string): Promise<CredentialSignIn[]> {
    const root = this.endpoint.replace(/\/+$/, "");
    const rows = await this.#collect<SignInRow>(
      "reading credential sign-in activity",
      `${root}/beta/reports/appCredentialSignInActivities`,
      { $filter: `appId eq '${appId}'` },
    );
    return toCredentialSignIns(rows);
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
