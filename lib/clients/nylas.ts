/**
 * The Nylas v3 API as this product needs it: the Microsoft connector, grants
 * (paged by offset — grants have no cursor), webhooks. Reads go through the
 * official SDK; the connector update is a raw PATCH because the SDK's
 * `connectors.update` sends PUT, which Nylas does not document (only PATCH is).
 */
import type NylasModule from "nylas";
import { HttpError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { httpRequest, parseRetryAfter } from "./http.js";
import { withRetry } from "./retry.js";

export interface MicrosoftConnector {
  name: string | undefined;
  clientId: string | undefined;
  tenant: string | undefined;
  scope: string[];
  /** False when the connector read carried no `scope`: an update must then not send one. */
  hasScope: boolean;
  /** `settings` exactly as Nylas returned them (snake_case, never the secret): an update sends back these. */
  settings: Record<string, unknown>;
  /** The connector's default credential (Nylas' multi-credential connectors), when it has one. */
  activeCredentialId: string | undefined;
}

export interface NylasGrant {
  id: string;
  provider: string;
  grantStatus: string;
  email: string | undefined;
  scope: string[];
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds: when the user last authenticated this grant. */
  updatedAt: number;
  /** The Nylas credential the grant uses for provider communication, when Nylas reports one. */
  credentialId: string | undefined;
}

export interface NylasWebhook {
  id: string;
  description: string | undefined;
  triggerTypes: string[];
  webhookUrl: string;
  status: string;
  /** Nylas gzips this destination's deliveries (`compressed_delivery`, since 2026-04). */
  compressedDelivery: boolean;
}

export interface ListGrantsOptions {
  provider?: string;
  grantStatus?: "valid" | "invalid";
  /** Page size asked for; Nylas documents at most 200 and may answer with fewer. */
  limit?: number;
}

/** A paged read saw the list change under it (a grant deleted or moved between pages). */
export class InconsistentReadError extends Error {
  override name = "InconsistentReadError";
}

export interface NylasClientOptions {
  apiKey: string;
  apiUri: string;
  clock: Clock;
  logger: Logger;
  /** Per request, in seconds (the SDK's unit). */
  timeoutSeconds?: number;
}

export const MAX_GRANTS_PAGE = 200;

// The package's typings describe its CommonJS face (class under `.default`); at
// run time the ESM build's default export is the class itself. Accept both.
type NylasCtor = typeof NylasModule.default;
type NylasSdk = InstanceType<NylasCtor>;

interface RawGrant {
  id: string;
  provider: string;
  grantStatus?: string;
  email?: string;
  scope?: string[];
  createdAt: number;
  updatedAt?: number;
  credentialId?: string | null;
}

/** A grant as Nylas sends it (snake_case). */
interface WireGrant {
  id: string;
  provider: string;
  grant_status?: string;
  email?: string;
  scope?: string[];
  created_at: number;
  updated_at?: number;
  credential_id?: string | null;
}

/**
 * What the SDK's `request` and `fetchList` make of a list body, minus the
 * renaming: the same parse, the same error when it is not JSON, the same
 * unwrapping of a nested `{ data: { items } }` envelope.
 */
function listData(body: Buffer): unknown {
  const text = body.toString("utf8");
  let parsed: { data?: unknown } | null;
  try {
    parsed = JSON.parse(text) as { data?: unknown } | null;
  } catch {
    throw new Error(`Could not parse response from the server: ${text}`);
  }
  const data = parsed?.data;
  if (data !== null && typeof data === "object" && !Array.isArray(data)) {
    const items = (data as { items?: unknown }).items;
    if (Array.isArray(items)) return items;
  }
  return data;
}

/** The `data` of a `{request_id, data}` envelope. */
function envelopeData(body: Buffer): unknown {
  const text = body.toString("utf8");
  try {
    return (JSON.parse(text) as { data?: unknown } | null)?.data;
  } catch {
    throw new Error(`Could not parse response from the server: ${text.slice(0, 200)}`);
  }
}

function toConnector(data: unknown): MicrosoftConnector {
  const d = (data ?? {}) as {
    name?: unknown;
    settings?: unknown;
    scope?: unknown;
    active_credential_id?: unknown;
  };
  const settings =
    d.settings !== null && typeof d.settings === "object" && !Array.isArray(d.settings)
      ? { ...(d.settings as Record<string, unknown>) }
      : {};
  delete settings.client_secret;
  const scope = Array.isArray(d.scope)
    ? d.scope.filter((x): x is string => typeof x === "string")
    : undefined;
  return {
    name: typeof d.name === "string" ? d.name : undefined,
    clientId: typeof settings.client_id === "string" ? settings.client_id : undefined,
    tenant: typeof settings.tenant === "string" ? settings.tenant : undefined,
    scope: scope ?? [],
    hasScope: scope !== undefined,
    settings,
    activeCredentialId: typeof d.active_credential_id === "string" ? d.active_credential_id : undefined,
  };
}

function fromWireGrant(wire: WireGrant): NylasGrant {
  return toGrant({
    id: wire.id,
    provider: wire.provider,
    grantStatus: wire.grant_status,
    email: wire.email,
    scope: wire.scope,
    createdAt: wire.created_at,
    updatedAt: wire.updated_at,
    credentialId: wire.credential_id,
  });
}

function toGrant(raw: RawGrant): NylasGrant {
  return {
    id: raw.id,
    provider: raw.provider,
    grantStatus: raw.grantStatus ?? "valid",
    email: raw.email,
    scope: raw.scope ?? [],
    createdAt: raw.createdAt,
    updatedAt: raw.updatedAt ?? raw.createdAt,
    credentialId: typeof raw.credentialId === "string" ? raw.credentialId : undefined,
  };
}

/** Turns whatever the Nylas SDK threw into an HttpError that says what to do. */
export function toNylasHttpError(error: unknown, what: string): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as {
    name?: string;
    statusCode?: number;
    type?: string;
    requestId?: string;
    headers?: Record<string, string>;
    message?: string;
  };
  const status = typeof e.statusCode === "number" ? e.statusCode : 0;
  const hint =
    status === 401
      ? " Check NYLAS_API_KEY, and that NYLAS_API_URI is your application's region (an EU application answers 401 on the US host and vice versa)."
      : status === 0
        ? " Check that NYLAS_API_URI is reachable."
        : status === 429
          ? " Nylas is rate limiting this application; the call was retried."
          : "";
  return new HttpError(
    `nylas: ${what} failed${status ? ` (${status}${e.type ? ` ${e.type}` : ""})` : ""}: ${e.message ?? String(error)}.${hint}`,
    {
      service: "nylas",
      statusCode: status,
      code: e.type,
      requestId: e.requestId,
      retryAfterMs: parseRetryAfter(e.headers?.["retry-after"] ?? null, Date.now()),
      ambiguous: status === 0 || status >= 500,
      cause: error,
    },
  );
}

export class NylasClient {
  readonly apiUri: string;
  readonly #options: NylasClientOptions;
  #sdk: Promise<NylasSdk> | undefined;

  constructor(options: NylasClientOptions) {
    this.#options = options;
    this.apiUri = options.apiUri;
  }

  // Loaded on first use: the webhook path never needs it, and cold start counts.
  #client(): Promise<NylasSdk> {
    this.#sdk ??= import("nylas").then((mod) => {
      const exported = mod.default as unknown as NylasCtor | { default: NylasCtor };
      const Nylas = "default" in exported ? exported.default : exported;
      return new Nylas({
        apiKey: this.#options.apiKey,
        apiUri: this.#options.apiUri,
        timeout: this.#options.timeoutSeconds ?? 30,
      });
    });
    return this.#sdk;
  }

  async #call<T>(what: string, fn: (sdk: NylasSdk) => Promise<T>): Promise<T> {
    const sdk = await this.#client();
    return withRetry(
      async () => {
        try {
          return await fn(sdk);
        } catch (error) {
          throw toNylasHttpError(error, what);
        }
      },
      { clock: this.#options.clock },
    );
  }

  /** The Microsoft connector, or undefined when the application has none. Nylas never returns its secret. */
  async getMicrosoftConnector(): Promise<MicrosoftConnector | undefined> {
    try {
      // Read raw: the SDK renames `settings` keys to camelCase, and an update must send back exactly the
      // keys Nylas holds.
      const data = await this.#call("reading the Microsoft connector", async (sdk) =>
        envelopeData(await sdk.apiClient.requestRaw({ method: "GET", path: "/v3/connectors/microsoft" })),
      );
      return toConnector(data);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /**
   * Puts a new secret into the connector. Nylas replaces the nested `settings`
   * object wholesale on PATCH, so the settings are sent back exactly as read
   * (`tenant` only if the connector had one: inventing "common" breaks a
   * single-tenant app with AADSTS50194), plus the new secret; `scope` only if
   * the read carried it. The secret travels only in the request body and is
   * never logged. Returns the connector as Nylas answered.
   */
  async patchMicrosoftConnector(update: {
    connector: MicrosoftConnector;
    clientSecret: string;
  }): Promise<MicrosoftConnector | undefined> {
    const { connector } = update;
    const response = await httpRequest(
      {
        service: "nylas",
        method: "PATCH",
        url: `${this.apiUri}/v3/connectors/microsoft`,
        headers: {
          authorization: `Bearer ${this.#options.apiKey}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify({
          settings: { ...connector.settings, client_secret: update.clientSecret },
          ...(connector.hasScope ? { scope: connector.scope } : {}),
        }),
        // The same full body sent twice leaves the same connector: safe to repeat.
        idempotent: true,
        timeoutMs: (this.#options.timeoutSeconds ?? 30) * 1000,
      },
      { clock: this.#options.clock },
    );
    try {
      return toConnector((JSON.parse(response.text) as { data?: unknown }).data);
    } catch {
      return undefined;
    }
  }

  /**
   * Every grant matching the filter, one page at a time, oldest first. Grants
   * are offset-paged (no cursor), so the offset advances by what each page
   * actually held (Nylas may answer with fewer than `limit`) and only an empty
   * page ends the read.
   *
   * With `consistent`, each page re-reads the last grant of the page before:
   * if it is not there, the list shifted under the read (a grant deleted, or one
   * leaving a status filter) and a grant may have been skipped, so the read
   * throws InconsistentReadError. New grants sort last (`created_at`
   * ascending) and cannot shift the pages already read.
   */
  async *listGrantPages(
    options: ListGrantsOptions & { consistent?: boolean } = {},
  ): AsyncGenerator<NylasGrant[]> {
    const limit = Math.min(options.limit ?? MAX_GRANTS_PAGE, MAX_GRANTS_PAGE);
    const overlap = options.consistent === true ? 1 : 0;
    let lastId: string | undefined;
    for (let offset = 0; ;) {
      const start = lastId === undefined ? offset : offset - overlap;
      // `grants.list` sends exactly this request through `apiClient`, then renames every key of every
      // grant to camelCase (a chain of regular expressions per key): two thirds of a 50,000-grant sweep's
      // time (bench/RESULTS.md). So the SDK still sends the request — same URL, headers, timeout and
      // errors — and the page is parsed here.
      const data = await this.#call("listing grants", async (sdk) =>
        listData(
          await sdk.apiClient.requestRaw({
            method: "GET",
            path: "/v3/grants",
            queryParams: {
              limit,
              offset: start,
              sortBy: "created_at",
              orderBy: "asc",
              ...(options.provider ? { provider: options.provider } : {}),
              ...(options.grantStatus ? { grantStatus: options.grantStatus } : {}),
            },
          }),
        ),
      );
      if (!Array.isArray(data)) throw new InconsistentReadError("nylas: a grant page carried no list.");
      let grants = (data as WireGrant[]).map(fromWireGrant);
      if (overlap > 0 && lastId !== undefined) {
        if (grants[0]?.id !== lastId)
          throw new InconsistentReadError("nylas: the grant list changed while it was read.");
        grants = grants.slice(1);
      }
      if (grants.length === 0) return;
      yield grants;
      offset = start + data.length;
      lastId = grants.at(-1)?.id;
    }
  }

  async *listGrants(options: ListGrantsOptions = {}): AsyncGenerator<NylasGrant> {
    for await (const page of this.listGrantPages(options)) yield* page;
  }

  /** One grant, or undefined when Nylas no longer has it (grant.not_found). */
  async getGrant(grantId: string): Promise<NylasGrant | undefined> {
    try {
      const { data } = await this.#call("reading a grant", (sdk) => sdk.grants.find({ grantId }));
      return toGrant(data);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /**
   * Every webhook destination. Read raw: the SDK's typings predate
   * `compressed_delivery`. The spec documents no paging for this list (no
   * limit, no next_cursor); should Nylas add a cursor, it is followed.
   */
  async listWebhooks(): Promise<NylasWebhook[]> {
    const out: NylasWebhook[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 100; page++) {
      const body = await this.#call(
        "listing webhooks",
        async (sdk) =>
          JSON.parse(
            (
              await sdk.apiClient.requestRaw({
                method: "GET",
                path: "/v3/webhooks",
                ...(pageToken ? { queryParams: { pageToken } } : {}),
              })
            ).toString("utf8"),
          ) as { data?: unknown; next_cursor?: unknown },
      );
      for (const w of Array.isArray(body.data) ? (body.data as Record<string, unknown>[]) : []) {
        out.push({
          id: typeof w.id === "string" ? w.id : "",
          description: typeof w.description === "string" ? w.description : undefined,
          triggerTypes: Array.isArray(w.trigger_types) ? w.trigger_types.map(String) : [],
          webhookUrl: typeof w.webhook_url === "string" ? w.webhook_url : "",
          status: typeof w.status === "string" ? w.status : "",
          compressedDelivery: w.compressed_delivery === true,
        });
      }
      if (typeof body.next_cursor !== "string" || body.next_cursor === "") break;
      pageToken = body.next_cursor;
    }
    return out;
  }
}
