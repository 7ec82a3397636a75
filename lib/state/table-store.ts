/**
 * State in Azure Table storage (the Function App's own storage account): one
 * table, PartitionKey = collection, RowKey = encoded key, the value as a JSON
 * string property. Conditional writes are the service's own: create (409 when
 * it exists) and replace-if-etag (412 when someone wrote since).
 *
 * Loaded lazily by `createStateStore`: `@azure/data-tables` costs ~150 ms to
 * import, which the file-store paths (CLI) should not pay.
 */
import { TableClient, odata, type TableServiceClientOptions } from "@azure/data-tables";
import { Redactor } from "../redaction.js";
import { parseConnectionString } from "./table-connection.js";
import { moveToQuarantine, type QuarantineIo } from "./quarantine.js";
import {
  MAX_VALUE_BYTES,
  encodeRowKey,
  keyOfEntity,
  parseEntityJson,
  rawEntity,
  serialize,
  type StateEntity,
} from "./table-entity.js";
import { serviceCode, statusOf, tableError } from "./table-errors.js";
import type {
  Collection,
  DeleteOptions,
  StateStore,
  StoreIo,
  StoredItem,
  WriteOptions,
  WriteResult,
} from "./store.js";

export { MAX_VALUE_BYTES, decodeRowKey, encodeRowKey } from "./table-entity.js";

export const TABLE_NAME = "watchdogstate";

/** An entity as read back: its properties (possibly not ours, if edited by hand) and the service's metadata. */
type ReadEntity = Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag: string };

export interface TableStateStoreOptions extends StoreIo {
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
  readonly #io: QuarantineIo;
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
    return new TableStateStore(
      client,
      `table ${tableName}@${parsed.account ?? parsed.host}`,
      redactor,
      options,
    );
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
    return new TableStateStore(
      client,
      `table ${tableName}@${new URL(tableServiceUri).host}`,
      new Redactor(),
      options,
    );
  }

  /** From a ready `TableClient` (any credential). `description` must not hold a secret. */
  constructor(
    client: TableClient,
    description = `table ${client.tableName}`,
    redactor = new Redactor(),
    io: StoreIo = {},
  ) {
    this.#client = client;
    this.description = description;
    this.#redactor = redactor;
    const clock = io.clock;
    this.#io = {
      logger: io.logger,
      now: clock === undefined ? () => new Date() : () => clock.now(),
      // `serialize` counts UTF-16 bytes, two per character.
      maxJsonChars: MAX_VALUE_BYTES / 2,
    };
  }

  async get<T>(collection: Collection, key: string): Promise<StoredItem<T> | undefined> {
    const rowKey = encodeRowKey(key);
    try {
      const entity = await this.#client.getEntity<Record<string, unknown>>(collection, rowKey);
      const parsed = parseEntityJson<T>(entity.json);
      if (parsed.ok) return { key, value: parsed.value, etag: entity.etag };
      await this.#quarantine(collection, { ...entity, key }, parsed.reason);
      return undefined;
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
    return this.#deleteRow(collection, encodeRowKey(key), options.ifMatch ?? "*", key);
  }

  async *list<T>(collection: Collection): AsyncIterable<StoredItem<T>> {
    // The SDK pages on continuation tokens underneath: one page in memory at a time.
    const entities = this.#client.listEntities<Record<string, unknown>>({
      queryOptions: { filter: odata`PartitionKey eq ${collection}` },
    });
    try {
      for await (const entity of entities) {
        const parsed = parseEntityJson<T>(entity.json);
        if (parsed.ok) yield { key: keyOfEntity(entity), value: parsed.value, etag: entity.etag };
        else await this.#quarantine(collection, entity, parsed.reason);
      }
    } catch (error) {
      if (statusOf(error) === 404) return; // no table yet: an empty collection
      throw this.#error(error, `listing ${collection}`);
    }
  }

  /**
   * Moves an unreadable entity to quarantine. It is removed only if its ETag
   * still matches: a good write that replaced it since is kept.
   */
  async #quarantine(collection: Collection, entity: ReadEntity, reason: string): Promise<void> {
    const key = keyOfEntity(entity);
    const rowKey = entity.rowKey ?? encodeRowKey(key);
    const found = { collection, key, reason, raw: rawEntity(entity), version: entity.etag };
    await moveToQuarantine(this, this.#io, found, () =>
      this.#deleteRow(collection, rowKey, entity.etag, key),
    );
  }

  /** Deletes a row if its ETag matches (`*`: any). False when it is gone or was written since. */
  async #deleteRow(collection: Collection, rowKey: string, etag: string, key: string): Promise<boolean> {
    try {
      await this.#client.deleteEntity(collection, rowKey, { etag });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 412) return false;
      throw this.#error(error, `deleting ${collection}/${key}`);
    }
  }

  #error(error: unknown, what: string): unknown {
    return tableError(error, what, this.description, this.#redactor);
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
}

function required(etag: string | undefined): string {
  if (etag === undefined) throw new Error("The Table service answered a write without an ETag.");
  return etag;
}
