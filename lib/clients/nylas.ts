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
}

export interface NylasWebhook {
  id: string;
  description: string | undefined;
  triggerTypes: string[];
  webhookUrl: string;
  status: string;
}

export interface ListGrantsOptions {
  provider?: string;
  grantStatus?: "valid" | "invalid";
  /** Page size; Nylas allows at most 200. */
  limit?: number;
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

function fromWireGrant(wire: WireGrant): NylasGrant {
  return toGrant({
    id: wire.id,
    provider: wire.provider,
    grantStatus: wire.grant_status,
    email: wire.email,
    scope: wire.scope,
    createdAt: wire.created_at,
    updatedAt: wire.updated_at,
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
      const { data } = await this.#call("reading the Microsoft connector", (sdk) =>
        sdk.connectors.find({ provider: "microsoft" }),
      );
      const settings = data.settings ?? {};
      return {
        name: (data as { name?: string }).name,
        clientId: typeof settings.clientId === "string" ? settings.clientId : undefined,
        tenant: typeof settings.tenant === "string" ? settings.tenant : undefined,
        scope: data.scope ?? [],
      };
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /**
   * Replaces the connector's settings. Nylas replaces the nested `settings`
   * object wholesale on PATCH, so all of client_id, client_secret and tenant are
   * sent every time; the scope is sent unchanged so it cannot be lost.
   * The secret travels only in the request body and is never logged.
   */
  async patchMicrosoftConnector(update: {
    clientId: string;
    clientSecret: string;
    tenant: string;
    scope: string[];
  }): Promise<void> {
    await httpRequest(
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
          settings: { client_id: update.clientId, client_secret: update.clientSecret, tenant: update.tenant },
          scope: update.scope,
        }),
        // The same full body sent twice leaves the same connector: safe to repeat.
        idempotent: true,
        timeoutMs: (this.#options.timeoutSeconds ?? 30) * 1000,
      },
      { clock: this.#options.clock },
    );
  }

  /** Every grant matching the filter, one page (≤200) at a time. */
  async *listGrantPages(options: ListGrantsOptions = {}): AsyncGenerator<NylasGrant[]> {
    const limit = Math.min(options.limit ?? MAX_GRANTS_PAGE, MAX_GRANTS_PAGE);
    for (let offset = 0; ; offset += limit) {
      // `grants.list` sends exactly this request through `apiClient`, then renames every key of every
      // grant to camelCase (a chain of regular expressions per key): two thirds of a 50,000-grant sweep's
      // time (bench/RESULTS.md). So the SDK still sends the request — same URL, headers, timeout and
      // errors — and the page is parsed here. Grants are offset-paged: there is no cursor to follow.
      const data = await this.#call("listing grants", async (sdk) =>
        listData(
          await sdk.apiClient.requestRaw({
            method: "GET",
            path: "/v3/grants",
            queryParams: {
              limit,
              offset,
              ...(options.provider ? { provider: options.provider } : {}),
              ...(options.grantStatus ? { grantStatus: options.grantStatus } : {}),
            },
          }),
        ),
      );
      const grants = (data as WireGrant[]).map(fromWireGrant);
      if (grants.length > 0) yield grants;
      if (grants.length < limit) return;
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

  async listWebhooks(): Promise<NylasWebhook[]> {
    const { data } = await this.#call("listing webhooks", (sdk) => sdk.webhooks.list());
    return data.map((w) => ({
      id: w.id,
      description: w.description ?? undefined,
      triggerTypes: [...w.triggerTypes],
      webhookUrl: w.webhookUrl,
      status: w.status,
    }));
  }
}
