/**
 * State in Azure Table storage (the Function App's own storage account): one
 * table, PartitionKey = collection, RowKey = encoded key, the value as a JSON
 * string property. Conditional writes are the service's own: create (409 when
 * it exists) and replace-if-etag (412 when someone wrote since).
 *
 * Loaded lazily by `createStateStore`: `@azure/data-tables` costs ~150 ms to
 * import, which the file-store paths (CLI) should not pay.
 */
import { createHash } from "node:crypto";
import { RestError, TableClient, odata, type TableServiceClientOptions } from "@azure/data-tables";
import { HttpError } from "../errors.js";
import { Redactor } from "../logger.js";
import type {
  Collection,
  DeleteOptions,
  StateStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from "./store.js";

export const TABLE_NAME = "watchdogstate";

/**
 * Largest value accepted, as UTF-16 bytes of its JSON. Table storage caps a
 * string property at 64 KiB of UTF-16 (32 Ki characters); the margin keeps
 * the rest of the entity well inside the limit.
 * https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#property-types
 */
export const MAX_VALUE_BYTES = 60 * 1024;

// A RowKey holds 1 KiB of UTF-16 (512 characters; Azurite enforces it too). Past
// that, a readable prefix plus a hash (the entity keeps the full key).
const MAX_ROW_KEY_CHARS = 512;
const DEV_ACCOUNT = "devstoreaccount1";

interface StateEntity {
  partitionKey: string;
  rowKey: string;
  /** The original key (RowKey is encoded, and hashed when long). */
  key: string;
  json: string;
}

export interface TableStateStoreOptions {
  /** Default `watchdogstate`. Tests use one table each. */
  tableName?: string;
  /** The SDK's retries (default: 3, exponential). */
  retryOptions?: TableServiceClientOptions["retryOptions"];
}

/** A `StateStore` over one Azure table. Build it with `TableStateStore.fromConnectionString`. */
export class TableStateStore implements StateStore {
  readonly description: string;
  readonly #client: TableClient;
  readonly #redactor: Redactor;
  #tableCreated: Promise<void> | undefined;

  /**
   * From a storage connection string (`AzureWebJobsStorage`), account key or
   * SAS, or `UseDevelopmentStorage=true` for Azurite. Plain http is allowed
   * only for Azurite (the dev account or a loopback host).
   */
  static fromConnectionString(
    connectionString: string,
    options: TableStateStoreOptions = {},
  ): TableStateStore {
    const tableName = options.tableName ?? TABLE_NAME;
    const parsed = parseConnectionString(connectionString);
    if (parsed.protocol === "http" && !parsed.local) {
      throw new TypeError(
        `The storage connection string (AzureWebJobsStorage) points at ${parsed.host} over http. ` +
          `Use https (DefaultEndpointsProtocol=https); http is only for Azurite.`,
      );
    }
    let client: TableClient;
    try {
      client = TableClient.fromConnectionString(connectionString, tableName, {
        allowInsecureConnection: parsed.protocol === "http",
        ...(options.retryOptions === undefined ? {} : { retryOptions: options.retryOptions }),
      });
    } catch {
      // The SDK's message is not needed and not shown: it could echo part of the string.
      throw new TypeError(
        "The storage connection string (AzureWebJobsStorage) could not be parsed. Copy it from the " +
          "storage account's Access keys blade (DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…) " +
          "or use UseDevelopmentStorage=true for Azurite.",
      );
    }
    const redactor = new Redactor();
    redactor.add(connectionString, ...parsed.secrets);
    return new TableStateStore(client, `table ${tableName}@${parsed.account ?? parsed.host}`, redactor);
  }

  /**
   * From the Table service URI and the Function's managed identity — what the
   * Functions convention `AzureWebJobsStorage__accountName` describes (no keys
   * anywhere). `clientId` picks a user-assigned identity.
   */
  static async fromIdentity(
    tableServiceUri: string,
    clientId: string | undefined,
    options: TableStateStoreOptions = {},
  ): Promise<TableStateStore> {
    const { DefaultAzureCredential } = await import("@azure/identity");
    const tableName = options.tableName ?? TABLE_NAME;
    const credential = new DefaultAzureCredential(
      clientId === undefined ? {} : { managedIdentityClientId: clientId },
    );
    const client = new TableClient(tableServiceUri, tableName, credential, {
      ...(options.retryOptions === undefined ? {} : { retryOptions: options.retryOptions }),
    });
    return new TableStateStore(client, `table ${tableName}@${new URL(tableServiceUri).host}`);
  }

  /** From a ready `TableClient` (any credential). `description` must not hold a secret. */
  constructor(client: TableClient, description = `table ${client.tableName}`, redactor = new Redactor()) {
    this.#client = client;
    this.description = description;
    this.#redactor = redactor;
  }

  async get<T>(collection: Collection, key: string): Promise<StoredItem<T> | undefined> {
    const rowKey = encodeRowKey(key);
    try {
      const entity = await this.#client.getEntity<StateEntity>(collection, rowKey);
      return { key, value: this.#parse<T>(collection, key, entity.json), etag: entity.etag };
    } catch (error) {
      // Missing entity, or the table does not exist yet (nothing was ever written).
      if (statusOf(error) === 404) return undefined;
      throw this.#error(error, `reading ${collection}/${key}`);
    }
  }

  async put<T>(
    collection: Collection,
    key: string,
    value: T,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    if (options.ifNotExists && options.ifMatch !== undefined) {
      throw new TypeError("put: pass ifMatch (update) or ifNotExists (create), not both.");
    }
    const entity: StateEntity = {
      partitionKey: collection,
      rowKey: encodeRowKey(key),
      key,
      json: serialize(collection, key, value),
    };
    const what = `writing ${collection}/${key}`;
    try {
      if (options.ifNotExists) {
        try {
          const response = await this.#inTable(() => this.#client.createEntity(entity));
          return { ok: true, etag: required(response.etag) };
        } catch (error) {
          if (statusOf(error) === 409 && serviceCode(error) !== "TableBeingDeleted") return { ok: false };
          throw error;
        }
      }
      if (options.ifMatch !== undefined) {
        try {
          const response = await this.#client.updateEntity(entity, "Replace", { etag: options.ifMatch });
          return { ok: true, etag: required(response.etag) };
        } catch (error) {
          // 412: someone wrote since. 404: the item (or the whole table) is gone.
          const status = statusOf(error);
          if (status === 412 || status === 404) return { ok: false };
          throw error;
        }
      }
      const response = await this.#inTable(() => this.#client.upsertEntity(entity, "Replace"));
      return { ok: true, etag: required(response.etag) };
    } catch (error) {
      throw this.#error(error, what);
    }
  }

  async delete(collection: Collection, key: string, options: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.#client.deleteEntity(collection, encodeRowKey(key), { etag: options.ifMatch ?? "*" });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 412) return false;
      throw this.#error(error, `deleting ${collection}/${key}`);
    }
  }

  async *list<T>(collection: Collection): AsyncIterable<StoredItem<T>> {
    // The SDK pages on continuation tokens underneath: one page in memory at a time.
    const entities = this.#client.listEntities<StateEntity>({
      queryOptions: { filter: odata`PartitionKey eq ${collection}` },
    });
    try {
      for await (const entity of entities) {
        const key = typeof entity.key === "string" ? entity.key : decodeRowKey(entity.rowKey);
        yield { key, value: this.#parse<T>(collection, key, entity.json), etag: entity.etag };
      }
    } catch (error) {
      if (statusOf(error) === 404) return; // no table yet: an empty collection
      throw this.#error(error, `listing ${collection}`);
    }
  }

  /** Runs a write; if the table does not exist yet, creates it and runs the write again. */
  async #inTable<R>(write: () => Promise<R>): Promise<R> {
    try {
      return await write();
    } catch (error) {
      if (!(statusOf(error) === 404 && serviceCode(error) === "TableNotFound")) throw error;
    }
    // Created on the first write rather than at start-up: a cold start pays no extra round trip.
    this.#tableCreated ??= this.#client.createTable().catch((error: unknown) => {
      this.#tableCreated = undefined;
      // Another instance created it first.
      if (statusOf(error) === 409) return;
      throw error;
    });
    await this.#tableCreated;
    return write();
  }

  #parse<T>(collection: Collection, key: string, json: unknown): T {
    if (typeof json !== "string") {
      throw new Error(
        `State entity ${collection}/${key} in ${this.description} has no "json" property: it was not written by the watchdog. Delete the entity.`,
      );
    }
    try {
      return JSON.parse(json) as T;
    } catch {
      throw new Error(
        `State entity ${collection}/${key} in ${this.description} holds invalid JSON: it was edited by hand. Delete or fix the entity.`,
      );
    }
  }

  /** A service or network failure as an `HttpError` that says what to check; anything else unchanged. */
  #error(error: unknown, what: string): unknown {
    if (!(error instanceof RestError)) return error;
    const rest = error;
    const statusCode = rest.statusCode ?? 0;
    const code = serviceCode(error);
    const headers = rest.response?.headers;
    const retryAfter = Number(headers?.get("retry-after"));
    let advice: string;
    if (statusCode === 0) {
      advice =
        "the Table service did not answer. Check the account name and endpoint in the AzureWebJobsStorage " +
        "connection string, DNS, and that the storage account's firewall (Networking) admits this app " +
        "(VNet integration or its outbound IPs).";
    } else if (statusCode === 401 || statusCode === 403) {
      advice =
        "the Table service refused the request. Check the account key or SAS in AzureWebJobsStorage " +
        "(rotated key? expired SAS, or one without the Table service and read/write/delete/create " +
        "permissions?) and the storage account's firewall, which also answers 403.";
    } else if (statusCode === 404) {
      advice = `the table or account was not found. Check the account in AzureWebJobsStorage and that the Table service is enabled.`;
    } else if (statusCode === 429 || statusCode >= 500) {
      advice =
        "the Table service is busy or failing; the next run retries. If it persists, check Azure status for the storage account.";
    } else {
      advice =
        "the Table service rejected the request. Check that AzureWebJobsStorage points at a general-purpose storage account with the Table service.";
    }
    const reason = rest.message && statusCode === 0 ? ` (${firstLine(this.#redact(rest.message))})` : "";
    return new HttpError(
      `State store ${this.description}: ${what} failed with ${statusCode === 0 ? "no response" : `HTTP ${statusCode}`}` +
        `${code === undefined ? "" : ` ${code}`}${reason}: ${advice}`,
      {
        service: "state",
        statusCode,
        code,
        requestId: headers?.get("x-ms-request-id") ?? undefined,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
        ambiguous: statusCode === 0 || statusCode >= 500,
        // No `cause`: the SDK error carries the request, whose URL holds the SAS token of a SAS connection string.
      },
    );
  }

  #redact(text: string): string {
    return this.#redactor.redact(text).replace(/([?&]sig=)[^&\s]+/gi, "$1[REDACTED]");
  }
}

/**
 * RowKey for a key. Table keys may not hold `/ \ # ?` or control characters,
 * and `%`/`'` trip URL handling in some clients, so only A–Z a–z 0–9 - _ stay
 * as they are and every other UTF-8 byte becomes `~XX`; `decodeRowKey` reverses it.
 */
export function encodeRowKey(key: string): string {
  if (typeof key !== "string" || key === "") throw new TypeError("A state key must be a non-empty string.");
  let encoded = "";
  for (const byte of Buffer.from(key, "utf8")) {
    const ch = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9_-]/.test(ch) ? ch : `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (encoded.length > MAX_ROW_KEY_CHARS) {
    // "~~" never occurs in an encoded key (a "~" is always followed by hex).
    encoded = `${encoded.slice(0, 400).replace(/~[0-9A-F]?$/, "")}~~${createHash("sha256").update(key).digest("hex")}`;
  }
  return encoded;
}

export function decodeRowKey(rowKey: string): string {
  return decodeURIComponent(rowKey.replace(/~/g, "%"));
}

function serialize(collection: Collection, key: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) {
    throw new TypeError("A state value must be JSON (an object, array, string, number, boolean or null).");
  }
  const bytes = json.length * 2; // UTF-16, as the service counts
  if (bytes > MAX_VALUE_BYTES) {
    throw new RangeError(
      `State value ${collection}/${key} is ${Math.ceil(bytes / 1024)} KiB as JSON (UTF-16); the Table store ` +
        `takes at most ${MAX_VALUE_BYTES / 1024} KiB per item (a Table string property holds 64 KiB). ` +
        `Store less in one item: split it across keys or drop old history.`,
    );
  }
  return json;
}

interface ParsedConnectionString {
  protocol: "http" | "https";
  host: string;
  account: string | undefined;
  /** Azurite: the dev account or a loopback endpoint. */
  local: boolean;
  /** Values that must never be shown (account key, SAS). */
  secrets: string[];
}

function parseConnectionString(connectionString: string): ParsedConnectionString {
  const parts = new Map<string, string>();
  for (const element of connectionString.split(";")) {
    const at = element.indexOf("=");
    if (at > 0) parts.set(element.slice(0, at).trim().toLowerCase(), element.slice(at + 1).trim());
  }
  const secrets = [parts.get("accountkey"), parts.get("sharedaccesssignature")].filter(
    (v): v is string => v !== undefined,
  );
  if (parts.get("usedevelopmentstorage")?.toLowerCase() === "true") {
    return { protocol: "http", host: "127.0.0.1:10002", account: DEV_ACCOUNT, local: true, secrets };
  }
  const account = parts.get("accountname");
  const endpoint = parts.get("tableendpoint");
  let protocol = parts.get("defaultendpointsprotocol")?.toLowerCase() === "http" ? "http" : "https";
  let host =
    account === undefined
      ? "(no account)"
      : `${account}.table.${parts.get("endpointsuffix") ?? "core.windows.net"}`;
  let hostname = host;
  if (endpoint !== undefined) {
    try {
      const url = new URL(endpoint);
      protocol = url.protocol === "http:" ? "http" : "https";
      host = url.host;
      hostname = url.hostname;
    } catch {
      // Left for the SDK to reject.
    }
  }
  const local = account === DEV_ACCOUNT || ["localhost", "127.0.0.1", "[::1]"].includes(hostname);
  return { protocol: protocol as "http" | "https", host, account, local, secrets };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : undefined;
}

/** The service's error code (`TableNotFound`, `AuthorizationFailure`, …), or the network error's. */
function serviceCode(error: unknown): string | undefined {
  if (!(error instanceof RestError)) return undefined;
  const header = error.response?.headers.get("x-ms-error-code");
  if (header) return header;
  // data-tables attaches the parsed OData error to the response at runtime.
  const response = error.response as { parsedBody?: { odataError?: { code?: unknown } } } | undefined;
  const body = response?.parsedBody;
  if (typeof body?.odataError?.code === "string") return body.odataError.code;
  return error.code;
}

function required(etag: string | undefined): string {
  if (etag === undefined) throw new Error("The Table service answered a write without an ETag.");
  return etag;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}
