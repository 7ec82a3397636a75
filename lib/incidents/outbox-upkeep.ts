/**
 * The outbox's daily upkeep, the only read of every record in `deliveries`:
 * settled records past retention are deleted (they made `enqueue` idempotent
 * until then), and a pending record the `outbox` does not list is listed —
 * state written before that index existed, or a crash between creating a
 * record and listing it. Run at most once a day, by one driver at a time (a
 * claim on a marker in `runs`), so a drain's cost is what is pending, not
 * how many alerts were ever sent.
 */
import type { Clock } from "../clock.js";
import { DAY_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore, StoredItem } from "../state/store.js";
import type { DeliveryRecord } from "./delivery-record.js";

/**
 * What upkeep needs of the pending listing (pending-deliveries.ts): which records it lists, and
 * adding one it lacks. Named here, not imported: the listing reads the unsent-incident keys, whose
 * file claims upkeep through this one.
 */
export interface PendingListing {
  ids(): Promise<Set<string>>;
  add(record: DeliveryRecord): Promise<void>;
}

export const UPKEEP_KEY = "outboxUpkeep";
const UPKEEP_EVERY_MS = DAY_MS;
/** A driver that died mid-upkeep holds it this long. Deletes and listings are conditional, so overlap is harmless. */
const UPKEEP_LEASE_MS = 10 * 60_000;

interface UpkeepMarker {
  v: 1;
  /** When the last upkeep read every record to the end. */
  completedAt: string | null;
  leaseUntil: string | null;
}

export interface UpkeepClaim {
  etag: string;
  /** No upkeep ever ran: records written before the `outbox` index may be waiting unlisted. */
  first: boolean;
}

export interface UpkeepReport {
  purged: number;
  listed: number;
  completed: boolean;
}

/**
 * Takes the upkeep when it is due and nobody else holds it; one read otherwise.
 * `key` names the marker: the incidents' daily read (`flushUnsent`) keeps its own.
 */
export async function claimUpkeep(
  store: StateStore,
  clock: Clock,
  key: string = UPKEEP_KEY,
): Promise<UpkeepClaim | undefined> {
  const now = clock.now().getTime();
  const current = await store.get<UpkeepMarker>("runs", key);
  const marker = current?.value;
  if (marker?.leaseUntil != null && Date.parse(marker.leaseUntil) > now) return undefined;
  if (marker?.completedAt != null && now - Date.parse(marker.completedAt) < UPKEEP_EVERY_MS) return undefined;
  const claimed: UpkeepMarker = {
    v: 1,
    completedAt: marker?.completedAt ?? null,
    leaseUntil: new Date(now + UPKEEP_LEASE_MS).toISOString(),
  };
  const written = await store.put(
    "runs",
    key,
    claimed,
    current === undefined ? { ifNotExists: true } : { ifMatch: current.etag },
  );
  return written.ok ? { etag: written.etag, first: claimed.completedAt === null } : undefined;
}

/**
 * Reads every record once. Stops at `abort` (what is not done waits for the
 * claim to lapse); marks the upkeep done only when it read to the end.
 */
export async function runUpkeep(
  deps: { store: StateStore; clock: Clock; pending: PendingListing; logger: Logger; retentionDays: number },
  claim: UpkeepClaim,
  abort: AbortSignal,
): Promise<UpkeepReport> {
  const { store, clock } = deps;
  const report: UpkeepReport = { purged: 0, listed: 0, completed: false };
  const cutoff = clock.now().getTime() - deps.retentionDays * DAY_MS;
  const listed = await deps.pending.ids();
  let cut = false;
  for await (const item of store.list<DeliveryRecord>("deliveries")) {
    if (abort.aborted) {
      cut = true;
      break;
    }
    if (item.value.state === "pending") {
      if (listed.has(item.key)) continue;
      await deps.pending.add(item.value);
      report.listed++;
    } else if (settledAt(item) < cutoff) {
      if (await store.delete("deliveries", item.key, { ifMatch: item.etag })) report.purged++;
    }
  }
  if (report.listed > 0) {
    deps.logger.info(`Alerts: ${report.listed} pending delivery(ies) found unlisted and queued again.`);
  }
  if (cut) return report;
  await completeUpkeep(store, clock, claim);
  report.completed = true;
  return report;
}

/** Marks the upkeep done (read to the end): the next is due a day later. */
export async function completeUpkeep(
  store: StateStore,
  clock: Clock,
  claim: UpkeepClaim,
  key: string = UPKEEP_KEY,
): Promise<void> {
  const done: UpkeepMarker = { v: 1, completedAt: clock.now().toISOString(), leaseUntil: null };
  await store.put("runs", key, done, { ifMatch: claim.etag });
}

function settledAt(item: StoredItem<DeliveryRecord>): number {
  return Date.parse(item.value.settledAt ?? item.value.createdAt);
}
