/**
 * Picks the state store the settings name: Azure Table storage when
 * `AzureWebJobsStorage` is set, otherwise a directory.
 */
import type { StateConfig } from "../config.js";
import { FileStateStore } from "./file-store.js";
import { redactingStore } from "./redacting-store.js";
import type { StateStore, StoreIo } from "./store.js";

/**
 * Builds the store for `config.state`. Async because the Table store is
 * imported on demand: `@azure/data-tables` takes ~150 ms to load, a cost the
 * CLI on a file store should not pay and a Functions cold start pays only once.
 * `io` tells the store where to warn of the records it quarantines.
 */
export async function createStateStore(config: StateConfig, io: StoreIo = {}): Promise<StateStore> {
  return redactingStore(await createBareStore(config, io));
}

async function createBareStore(config: StateConfig, io: StoreIo): Promise<StateStore> {
  if (config.kind === "file") return new FileStateStore(config.dir, io);
  const { TableStateStore } = await import("./table-store.js");
  if (config.kind === "table") return TableStateStore.fromConnectionString(config.connectionString, io);
  return TableStateStore.fromIdentity(config.tableServiceUri, config.clientId, io);
}
