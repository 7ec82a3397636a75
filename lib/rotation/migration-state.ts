/**
 * The migration as other passes see it: the superseded keys recorded in
 * state, for the sweep (which pages every grant anyway) and `watchdog grants`.
 */
import type { StateStore } from "../state/store.js";
import { MigrationTracker, dependencyWindows } from "./migrate.js";
import type { KeyRecord } from "./records.js";

/** The superseded keys of every app the watchdog rotated, and which app each belongs to. */
export async function loadMigrationTracker(
  store: StateStore,
  marginSeconds?: number,
): Promise<MigrationTracker & { appIds: string[] }> {
  const records: KeyRecord[] = [];
  for await (const item of store.list<KeyRecord>("rotation")) {
    if (item.key.startsWith("key:")) records.push(item.value);
  }
  const tracker = new MigrationTracker(
    dependencyWindows(records, marginSeconds),
    records,
  ) as MigrationTracker & {
    appIds: string[];
  };
  tracker.appIds = [...new Set(records.filter((r) => r.state === "superseded").map((r) => r.appId))];
  return tracker;
}
