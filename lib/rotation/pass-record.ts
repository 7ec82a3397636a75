/**
 * The record the watchdog pass writes after each run (`runs/secretWatchdog`),
 * as far as anything but the pass reads it: the next pass's connector step
 * and the grant passes. The pass writes it through `writePassRecord` and types
 * its result with `PassRecord`, so a field renamed there cannot silently stop
 * being read here. It lives on the rotation floor, the lowest that reads it,
 * because neither the connector step nor the grant passes may import the pass.
 */
import { DAY_MS } from "../clock.js";
import type { Service } from "../errors.js";
import type { StateStore } from "../state/store.js";

/** One of the connector app's secrets as the pass last saw it. */
export interface ConnectorSecretSeen {
  keyId: string;
  endDateTime: string | null;
  /** Entra's last sign-in with it, when the report was readable. */
  lastSignIn?: string | null;
}

export interface PassRecord {
  startedAt: string;
  /** The connector app's secrets (ids, expiry, last sign-in). */
  connectorSecrets: ConnectorSecretSeen[];
  migration: {
    /** Valid Microsoft grants read (null: none needed reading). */
    validGrants?: number | null;
  };
  /** Set when the pass stopped before its end: where, and why (it exits 3). */
  stopped?: PassStop;
}

/** Where a pass stopped early, and the service that kept it waiting, when one did. */
export interface PassStop {
  /** The step the pass did not start, or did not finish. */
  step: string;
  at: string;
  /** One line for on-call: what happened and that the next pass resumes. */
  reason: string;
  service?: Service;
  /** The service's last answer (0: none came). */
  statusCode?: number;
  retryAfterSeconds?: number;
}

/** As read back: a record written by an older pass may lack what later passes added. */
export type StoredPassRecord = Pick<PassRecord, "startedAt"> & Partial<Omit<PassRecord, "startedAt">>;

const KEY = "secretWatchdog";

export async function writePassRecord<T extends PassRecord>(store: StateStore, record: T): Promise<void> {
  await store.put("runs", KEY, record);
}

/**
 * What a pass that stopped early records: only where and why. What it read may
 * be partial (a scan cut short misses keys, and recovery takes a key two reads
 * missed for one deleted outside the watchdog), so the last complete pass's
 * record stays as it was, exactly as after a crash, and health still counts
 * from that pass's finish. The next complete pass replaces the whole record.
 */
export async function writePassStop(store: StateStore, startedAt: string, stop: PassStop): Promise<void> {
  const previous = await readPassRecord(store);
  await store.put("runs", KEY, { ...(previous ?? { startedAt }), stopped: stop });
}

export async function readPassRecord(store: StateStore): Promise<StoredPassRecord | undefined> {
  return (await store.get<StoredPassRecord>("runs", KEY))?.value;
}

/** How recent an expiry must be to be named as the likely cause. */
const RECENT_EXPIRY_MS = 7 * DAY_MS;

/** A connector-app secret that expired within the last week, if the last pass saw one. */
export async function recentlyExpiredConnectorSecret(
  store: StateStore,
  now: Date,
): Promise<{ keyId: string; endDateTime: string } | undefined> {
  const run = await readPassRecord(store);
  // A record written before the pass kept its secrets has none.
  for (const s of run?.connectorSecrets ?? []) {
    if (s.endDateTime === null) continue;
    const end = Date.parse(s.endDateTime);
    if (end <= now.getTime() && now.getTime() - end <= RECENT_EXPIRY_MS)
      return { keyId: s.keyId, endDateTime: s.endDateTime };
  }
  return undefined;
}
