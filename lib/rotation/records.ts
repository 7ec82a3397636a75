/**
 * What the watchdog remembers about the secrets it manages (state collection
 * "rotation"). Never a secret value: key ids, dates and states only.
 *
 * One record per watchdog-created key tracks where that key may be:
 *
 *   created ─► sent ─► installed ─► superseded ─► removed
 *      │         └──────────(ambiguous: kept)──► superseded
 *      └──► removed (never sent to Nylas: provably not in the connector)
 *
 * "sent" means a PATCH carrying the key may have reached Nylas; only a later
 * *definitive* switch to another key proves it is no longer in the connector.
 * A superseded key is depended on by the grants that authenticated while it
 * may have been in the connector: its window [windowStart, supersededAt).
 *
 * Secrets the watchdog did not create ("foreign") are represented, once the
 * first switch happens, by one pseudo-record `foreign`, so grants from before
 * adoption are tracked the same way.
 */
import type { StateStore, StoredItem } from "../state/store.js";

export const FOREIGN = "foreign";

export type KeyState = "created" | "sent" | "installed" | "superseded" | "removed";

export interface KeyRecord {
  v: 1;
  /** The Entra passwordCredential keyId, or "foreign" for secrets the watchdog did not create. */
  keyId: string;
  appId: string;
  appObjectId: string;
  /** The rotation that created it (foreign: the rotation that superseded the foreign secrets). */
  rotationId: string;
  createdAt: string;
  /** When the key stops working (foreign: the earliest expiry among the foreign secrets at the switch). */
  endDateTime: string | null;
  state: KeyState;
  /** First moment the key may have been in the connector (a PATCH carrying it was sent). Null = always (foreign). */
  windowStart: string | null;
  installedAt?: string;
  /** When a definitive switch put another key into the connector. */
  supersededAt?: string;
  /** The rotation whose switch superseded it: re-auth requests are once per (that rotation, grant). */
  supersededBy?: string;
  /** A PATCH carrying it could not be confirmed either way. */
  ambiguous?: boolean;
  removedAt?: string;
  /** When Entra first accepted it (the watchdog's own proof): sign-ins up to then are the watchdog's. */
  provenAt?: string;
  /**
   * "adopted": another installation made it and this one took the connector over (`--adopt`). It may be
   * in the connector and grants may use it, so it is tracked like this installation's keys — but, like a
   * foreign secret, it is never removed by this installation.
   */
  origin?: "adopted";
  /** Nylas' connector `active_credential_id` right after the switch that installed it. */
  activeCredentialId?: string;
  /**
   * First pass whose complete, consistent grant read found no valid grant depending
   * on it. Retirement without sign-in evidence needs a second such pass.
   */
  noDependentsSince?: string;
}

/**
 * One rotation attempt, kept after it ends: the durable evidence of which keys
 * this installation received a value for, and which one it sent to Nylas. A
 * key carrying this installation's marker and this rotation id that is not
 * `sentKeyId` provably never reached the connector.
 */
export interface AttemptRecord {
  v: 1;
  rotationId: string;
  installationId: string;
  appId: string;
  startedAt: string;
  /** Keys whose value addPassword returned to this installation. */
  receivedKeyIds: string[];
  /** Written after the key record says "sent", before the PATCH. */
  sentKeyId?: string;
}

export const attemptKey = (rotationId: string) => `attempt:${rotationId}`;

export async function loadAttempt(store: StateStore, rotationId: string): Promise<AttemptRecord | undefined> {
  return (await store.get<AttemptRecord>("rotation", attemptKey(rotationId)))?.value;
}

export async function saveAttempt(store: StateStore, attempt: AttemptRecord): Promise<void> {
  await store.put("rotation", attemptKey(attempt.rotationId), attempt);
}

/** A rotation in flight: written before each step so a crash leaves enough to finish or clean up. */
export interface InflightRecord {
  v: 1;
  rotationId: string;
  appId: string;
  appObjectId: string;
  phase: "creating" | "created" | "installing";
  keyId?: string;
  startedAt: string;
  updatedAt: string;
}

export const INFLIGHT_KEY = "inflight";
export const keyRecordKey = (appId: string, keyId: string) => `key:${appId}:${keyId}`;
const KEY_PREFIX = "key:";

export async function loadKeyRecords(store: StateStore, appId: string): Promise<StoredItem<KeyRecord>[]> {
  const out: StoredItem<KeyRecord>[] = [];
  for await (const item of store.list<KeyRecord>("rotation")) {
    if (item.key.startsWith(KEY_PREFIX) && item.value.appId === appId) out.push(item);
  }
  return out;
}

/** The app's key records, without their store envelopes: what every decision reads. */
export async function loadKeyRecordValues(store: StateStore, appId: string): Promise<KeyRecord[]> {
  return (await loadKeyRecords(store, appId)).map((i) => i.value);
}

export async function saveKeyRecord(store: StateStore, record: KeyRecord): Promise<void> {
  await store.put("rotation", keyRecordKey(record.appId, record.keyId), record);
}

/** Where a grant's secret may be: keys that may be in the connector right now. */
export function connectorCandidates(records: readonly KeyRecord[]): KeyRecord[] {
  return records.filter((r) => r.state === "installed" || r.state === "sent");
}

/** The key definitively installed last, if any. */
export function installedKey(records: readonly KeyRecord[]): KeyRecord | undefined {
  return records
    .filter((r) => r.state === "installed")
    .sort((a, b) => (a.installedAt ?? "").localeCompare(b.installedAt ?? ""))
    .at(-1);
}

/** Superseded keys still tracked (not removed): the migration's dependencies. */
export function dependencies(records: readonly KeyRecord[]): KeyRecord[] {
  return records.filter((r) => r.state === "superseded");
}
