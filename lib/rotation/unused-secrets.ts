/**
 * Which expired secrets of the connector's app nothing depends on: the one rule `watchdog run`'s
 * attention and `watchdog scan` share. A pass raises attention for the connector's app only over
 * the keys the connector may hold (`connectorKeys`); an expired secret outside them authenticates
 * no one the watchdog answers for, and reporting it as a failure would keep `scan` at exit 1 for
 * good after the first rotation, since a secret the watchdog did not create is never removed by it.
 *
 * That is known only from evidence: this installation's durable records of what it put into the
 * connector. With no such record, or while the connector may still hold a secret the watchdog did
 * not create (the foreign record installed: adopted, never rotated since), nothing is called unused.
 */
import type { GraphApplication } from "../clients/graph.js";
import type { StateStore } from "../state/store.js";
import { isExpired } from "../watch/classify.js";
import { connectorKeys } from "./connector-keys.js";
import { FOREIGN, connectorCandidates, type KeyRecord } from "./records.js";

/** The key ids of the app's expired secrets that the connector provably does not hold. */
export function unusedExpiredSecrets(
  app: GraphApplication,
  allRecords: readonly KeyRecord[],
  now: Date,
): Set<string> {
  const records = allRecords.filter((r) => r.appId === app.appId);
  const candidates = connectorCandidates(records);
  if (candidates.length === 0 || candidates.some((r) => r.keyId === FOREIGN)) return new Set();
  const held = new Set(connectorKeys(app, records, now).map((k) => k.keyId));
  return new Set(
    app.passwordCredentials
      .filter((p) => isExpired(p.endDateTime, now) && !held.has(p.keyId))
      .map((p) => p.keyId),
  );
}

/**
 * Every app's key records, read before the connector's app is known (a scan streams that app's
 * secrets as soon as it arrives). Read-only.
 */
export async function readAllKeyRecords(store: StateStore): Promise<KeyRecord[]> {
  const out: KeyRecord[] = [];
  for await (const item of store.list<KeyRecord>("rotation")) {
    if (item.key.startsWith("key:")) out.push(item.value);
  }
  return out;
}
