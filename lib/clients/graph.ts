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
import { rememberSecret } from "../redaction.js";
import { graphScope } from "./credential.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { readApplicationsByAppIds } from "./graph-batch.js";
import { graphFailure } from "./graph-errors.js";
import { credentialErrorOf } from "./credential-error.js";
import { tokenAhead } from "./token-ahead.js";
import {
  CREDENTIAL_SELECT,
  MAX_APPLICATIONS_PAGE,
  type AppRoleAssignment,
  type BatchedRead,
  type CredentialSignIn,
  type GraphApplication,
  type NewPassword,
  type OAuth2PermissionGrant,
  type ServicePrincipal,
  toCredentialSignIns,
} from "./graph-types.js";
import * as parse from "./graph-schemas.js";
import { appOf, collectPages, readApplicationPages, type ApplicationPage } from "./graph-pages.js";
import { isTransientGraph, withRetry, type RetryPolicy } from "./retry.js";

export * from "./graph-types.js";
export { toGraphHttpError } from "./graph-errors.js";
export type { ApplicationPage } from "./graph-pages.js";

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

  /**
   * Loads the Graph SDK on demand (cold start: the webhook path never needs it). The first token is
   * asked for before the SDK loads, so the two overlap (token-ahead.ts).
   */
  static async create(options: GraphClientOptions): Promise<GraphClient> {
    const credential = tokenAhead(options.credential, graphScope(options.endpoint));
    const { createSdkClient } = await import("./graph-sdk.js");
    return new GraphClient(createSdkClient(credential, options.endpoint), { ...options, credential });
  }

  /** A read (GET, or a `$batch` of GETs): retried with Graph's predicate, waits on the injected clock. */
  #read<T>(what: string, send: () => Promise<unknown>): Promise<T> {
    return withRetry(
      async () => {
        try {
          return (await send()) as T;
        } catch (error) {
          throw graphFailure(error, what, this.#logger);
        }
      },
      {
        idempotent: true,
        transient: isTransientGraph,
        policy: this.#policy,
        sleep: (ms, abort) => this.#clock.sleep(ms, abort),
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
      throw graphFailure(error, what, this.#logger);
    }
  }

  /**
   * The claims of the watchdog's own Graph token (`oid`, `appid`, `tid`,
   * `roles`): who the watchdog is and which application permissions it holds,
   * without needing extra directory permissions to find out. Decoded, not
   * verified — it came straight from Entra over TLS.
   */
  async tokenClaims(): Promise<Record<string, unknown>> {
    const token = await this.#credential.getToken(graphScope(this.endpoint)).catch((error: unknown) => {
      throw credentialErrorOf(error) ?? error;
    });
    rememberSecret(token?.token);
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
    const what = `reading application ${appId}`;
    try {
      const raw = await this.#get<unknown>(what, `/applications(appId='${encodeURIComponent(appId)}')`, {
        $select: select.join(","),
      });
      return parse.parseApplication(raw, select, what, appId);
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
      sleep: (ms, abort) => this.#clock.sleep(ms, abort),
      logger: this.#logger,
      policy: this.#policy,
    });
  }

  /** Every application the identity can read, a page (≤999) at a time; an app Graph answered malformed throws. */
  async *listApplicationPages(
    select: readonly string[] = CREDENTIAL_SELECT,
    top = MAX_APPLICATIONS_PAGE,
  ): AsyncGenerator<GraphApplication[]> {
    for await (const page of this.listApplicationReadPages(select, top)) yield Array.from(page, appOf);
  }

  /**
   * The same, following @odata.nextLink, each app read on its own: one whose
   * answer is malformed comes with its error, so it is reported and the others
   * are still watched. A page that is not a list throws. Each page is read as the
   * caller walks it, once (graph-pages.ts, ApplicationPage).
   */
  listApplicationReadPages(
    select: readonly string[] = CREDENTIAL_SELECT,
    top = MAX_APPLICATIONS_PAGE,
  ): AsyncGenerator<ApplicationPage> {
    return readApplicationPages((what, path, query) => this.#get(what, path, query), select, top);
  }

  /** Creates a secret. The returned `secretText` must go straight to its one consumer and nowhere else. */
  async addPassword(
    objectId: string,
    credential: { displayName: string; endDateTime: string },
  ): Promise<NewPassword> {
    const path = `/applications/${encodeURIComponent(objectId)}/addPassword`;
    const created = await this.#postOnce<NewPassword>("adding a client secret", path, {
      passwordCredential: credential,
    });
    // From here on no output of this process may show it, whatever path it takes.
    rememberSecret(created.secretText);
    return created;
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
    const rows = await this.#collect(
      "reading credential sign-in activity",
      parse.parseSignInRow,
      `${root}/beta/reports/appCredentialSignInActivities`,
      { $filter: `appId eq '${appId}'` },
    );
    return toCredentialSignIns(rows);
  }

  async getServicePrincipalByAppId(
    appId: string,
    select?: readonly string[],
  ): Promise<ServicePrincipal | undefined> {
    const what = `finding the service principal of ${appId}`;
    const raw = await this.#get<unknown>(what, "/servicePrincipals", {
      $filter: `appId eq '${appId}'`,
      ...(select ? { $select: select.join(",") } : {}),
    });
    const first = parse.parsePage(raw, what).value[0];
    return first === undefined ? undefined : parse.parseServicePrincipal(first, what, appId);
  }

  async listOAuth2PermissionGrants(clientServicePrincipalId: string): Promise<OAuth2PermissionGrant[]> {
    return this.#collect(
      "listing delegated permission grants",
      parse.parsePermissionGrant,
      "/oauth2PermissionGrants",
      {
        $filter: `clientId eq '${clientServicePrincipalId}'`,
      },
    );
  }

  async listAppRoleAssignments(servicePrincipalId: string): Promise<AppRoleAssignment[]> {
    return this.#collect(
      "listing app role assignments",
      parse.parseRoleAssignment,
      `/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/appRoleAssignments`,
    );
  }

  async listOwnerIds(applicationObjectId: string): Promise<string[]> {
    const owners = await this.#collect(
      "listing application owners",
      parse.parseOwner,
      `/applications/${encodeURIComponent(applicationObjectId)}/owners`,
      { $select: "id" },
    );
    return owners.map((o) => o.id);
  }

  #collect<T>(
    what: string,
    item: (raw: unknown, what: string) => T,
    path: string,
    query: Record<string, string> = {},
  ): Promise<T[]> {
    return collectPages((w, p, q) => this.#get(w, p, q), what, item, path, query);
  }
}
