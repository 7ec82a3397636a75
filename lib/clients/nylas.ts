/**
 * The Nylas v3 API as this product needs it: the Microsoft connector, grants
 * (paged by offset — grants have no cursor), webhooks. Reads go through the
 * official SDK; the connector update is a raw PATCH because the SDK's
 * `connectors.update` sends PUT, which Nylas does not document (only PATCH is).
 * The SDK has no retry of its own: every call goes through the one retry
 * policy (retry.ts) with Nylas's predicate.
 */
import { HttpError } from "../errors.js";
import { httpRequest } from "./http.js";
import { isTransientNylas, withRetry } from "./retry.js";
import {
  InconsistentReadError,
  MAX_GRANTS_PAGE,
  type ListGrantsOptions,
  type MicrosoftConnector,
  type NylasClientOptions,
  type NylasGrant,
  type NylasWebhook,
} from "./nylas-types.js";
import {
  envelopeData,
  listData,
  parseConnector,
  toConnector,
  toNylasHttpError,
  toWebhook,
  type NylasCtor,
  type NylasSdk,
} from "./nylas-wire.js";
import { parseAnswer } from "./answer.js";
import { assertGrantId, parseFoundGrant, parseWireGrant, webhookPage } from "./nylas-schemas.js";

export * from "./nylas-types.js";
export { toNylasHttpError } from "./nylas-wire.js";

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
      {
        idempotent: true,
        transient: isTransientNylas,
        sleep: (ms, abort) => this.#options.clock.sleep(ms, abort),
      },
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
      return parseConnector(data, "reading the Microsoft connector");
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
        transient: isTransientNylas,
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
    // `grants.list` sends exactly this request through `apiClient`, then renames every key of every
    // grant to camelCase (a chain of regular expressions per key): two thirds of a 50,000-grant sweep's
    // time (bench/RESULTS.md). So the SDK still sends the request — same URL, headers, timeout and
    // errors — and the page is parsed here.
    const readPage = (start: number) =>
      this.#call("listing grants", async (sdk) =>
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
    let lastId: string | undefined;
    let start = 0;
    let page = readPage(start);
    for (;;) {
      const data = await page;
      if (!Array.isArray(data)) throw new InconsistentReadError("nylas: a grant page carried no list.");
      let grants = data.map((raw) => parseWireGrant(raw, "listing grants"));
      if (overlap > 0 && lastId !== undefined) {
        if (grants[0]?.id !== lastId)
          throw new InconsistentReadError("nylas: the grant list changed while it was read.");
        grants = grants.slice(1);
      }
      if (grants.length === 0) return;
      // Read-ahead, as Graph's pages are read (graph-pages.ts): the next page is requested before this
      // one is handed over, so Nylas's time to produce it overlaps the caller's time to go through this
      // one. It is the request the loop would send next anyway (only an empty page ends the read),
      // and at most two pages are held.
      // With `consistent`, the next page starts at this one's last grant, to re-read it.
      start += data.length - overlap;
      lastId = grants.at(-1)?.id;
      page = readPage(start);
      // Observed by the await above on the next turn; this keeps a failure from being unhandled if
      // the caller stops early.
      page.catch(() => undefined);
      yield grants;
    }
  }

  async *listGrants(options: ListGrantsOptions = {}): AsyncGenerator<NylasGrant> {
    for await (const page of this.listGrantPages(options)) yield* page;
  }

  /**
   * One grant, or undefined when Nylas no longer has it (grant.not_found).
   * Throws RangeError for an id that is not a Nylas id: it goes into the path.
   */
  async getGrant(grantId: string): Promise<NylasGrant | undefined> {
    assertGrantId(grantId);
    try {
      const { data } = await this.#call("reading a grant", (sdk) => sdk.grants.find({ grantId }));
      return parseFoundGrant(data, grantId, `reading grant ${grantId}`);
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
      const raw = await this.#call("listing webhooks", async (sdk): Promise<unknown> =>
        JSON.parse(
          (
            await sdk.apiClient.requestRaw({
              method: "GET",
              path: "/v3/webhooks",
              ...(pageToken ? { queryParams: { pageToken } } : {}),
            })
          ).toString("utf8"),
        ),
      );
      const body = parseAnswer(webhookPage(), raw, "nylas", "listing webhooks");
      for (const w of body.data) out.push(toWebhook(w));
      if (typeof body.next_cursor !== "string" || body.next_cursor === "") break;
      pageToken = body.next_cursor;
    }
    return out;
  }
}
