/**
 * Picks the state store the settings name: Azure Table storage when
 * `AzureWebJobsStorage` is set, otherwise a directory.
 */
import type { StateConfig } from "../config.js";
import { FileStateStore } from "./file-store.js";
import type { StateStore } from "./store.js";

/**
 * Builds the store for `config.state`. Async because the Table store is
 * imported on demand: `@azure/data-tables` takes ~150 ms to load, a cost the
 * CLI on a file store should not pay and a Functions cold start pays only once.
 */
export async function createStateStore(config: StateConfig): Promise<StateStore> {
  if (config.kind === "file") return new FileStateStore(config.dir);
  const { TableStateStore } = await import("./table-store.js");
  if (config.kind === "table") return TableStateStore.fromConnectionString(config.connectionString);
  return TableStateStore.fromIdentity(config.tableServiceUri, config.clientId);
}
