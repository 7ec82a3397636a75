/**
 * Finishes or cleans up after a run that stopped mid-rotation, and removes the
 * keys that provably never reached Nylas. Runs under the single-flight lease,
 * before anything is planned.
 *
 * The one rule: a key is removed only on positive evidence that this
 * installation made it and that it never reached the connector — its key
 * record still says "created" (the record says "sent" before any PATCH), or
 * the durable record of the attempt that made it shows that its value was
 * never received or never sent. A key this installation has no such record of
 * may be in the connector (another installation made it, or this one lost its
 * store): it is kept, and reported.
 */
import type { Clock } from "../clock.js";
import { MINUTE_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication, GraphClient } from "../clients/graph.js";
import { parseMarker, type Marker } from "./marker.js";
import {
  FOREIGN,
  INFLIGHT_KEY,
  installedKey,
  keyRecordKey,
  loadAttempt,
  loadKeyRecordValues,
  saveKeyRecord,
  type AttemptRecord,
  type InflightRecord,
  type KeyRecord,
} from "./records.js";
import { removeKeyWithRetry } from "./rotate.js";

export interface RecoveryReport {
  /** Keys removed because they provably never reached Nylas. */
  removedOrphans: string[];
  /** Keys kept because a PATCH carrying them may have reached Nylas. */
  markedAmbiguous: string[];
  /** Keys the watchdog recorded that someone deleted from the app (confirmed by two reads). */
  vanished: string[];
  /** Recorded keys a single read did not list: kept until a later pass confirms. */
  unconfirmedMissing: string[];
  /** Watchdog-marked keys of this installation it has no evidence about: kept (may be in the connector). */
  unprovable: string[];
  /** An interrupted rotation was found (and finished or cleaned up). */
  interrupted: string | undefined;
}

export interface RecoveryDeps {
  store: StateStore;
  graph: GraphClient;
  clock: Clock;
  logger: Logger;
  /** This store's installation id. */
  installationId: string;
  /** Dry run: report what would be done, change nothing. */
  dryRun: boolean;
  /** The app's keys as the previous pass read them (its run record): the second read that confirms a miss. */
  previousRead?: { at: string; keyIds: readonly string[] } | undefined;
}

/** Two reads at least this far apart, both missing a key, are needed before it counts as deleted. */
const CONFIRM_MISSING_MS = 5 * MINUTE_MS;

export async function recoverRotation(app: GraphApplication, deps: RecoveryDeps): Promise<RecoveryReport> {
  const run: Recovery = {
    app,
    deps,
    now: deps.clock.now(),
    present: new Set(app.passwordCredentials.map((p) => p.keyId)),
    report: {
      removedOrphans: [],
      markedAmbiguous: [],
      vanished: [],
      unconfirmedMissing: [],
      unprovable: [],
      interrupted: undefined,
    },
  };
  let records = await loadKeyRecordValues(deps.store, app.appId);
  if (await finishInterrupted(run, records)) records = await loadKeyRecordValues(deps.store, app.appId);
  await removeKeysThatNeverReachedNylas(run, records);
  await recordKeysDeletedOutside(run, records);
  // Superseding must see the deletions and ambiguity just recorded.
  if (run.report.vanished.length > 0 || run.report.markedAmbiguous.length > 0)
    records = await loadKeyRecordValues(deps.store, app.appId);
  if (!deps.dryRun) await supersedeBeforeLatestInstall(run, records);
  return run.report;
}

/** One recovery: what it read, and the report it fills in. */
interface Recovery {
  app: GraphApplication;
  deps: RecoveryDeps;
  now: Date;
  /** Key ids this pass's Graph read listed. */
  present: ReadonlySet<string>;
  report: RecoveryReport;
}

const byKeyId = (records: readonly KeyRecord[]) => new Map(records.map((r) => [r.keyId, r]));

/**
 * Ends the in-flight record of this app's interrupted rotation; true when there was one (the key
 * records may have changed).
 */
async function finishInterrupted(run: Recovery, records: readonly KeyRecord[]): Promise<boolean> {
  const { deps, report } = run;
  const inflight = (await deps.store.get<InflightRecord>("rotation", INFLIGHT_KEY))?.value;
  if (inflight === undefined || inflight.appId !== run.app.appId) return false;
  report.interrupted = inflight.rotationId;
  const record = inflight.keyId ? byKeyId(records).get(inflight.keyId) : undefined;
  if (record !== undefined && patchMayHaveHappened(inflight, record)) {
    // Keep the key; a later definitive switch (or evidence) settles it.
    report.markedAmbiguous.push(record.keyId);
    if (!deps.dryRun) await saveKeyRecord(deps.store, { ...record, ambiguous: true });
  }
  if (!deps.dryRun) await deps.store.delete("rotation", INFLIGHT_KEY);
  return true;
}

/**
 * Why: a run stopped while installing, with the key recorded "sent", may have PATCHed it into the
 * connector — nothing proves it did not, so the key must not be removed as an orphan.
 */
function patchMayHaveHappened(inflight: InflightRecord, record: KeyRecord): boolean {
  return inflight.phase === "installing" && record.state === "sent";
}

/** Removes each watchdog-marked key that positive evidence shows never reached Nylas; reports the rest. */
async function removeKeysThatNeverReachedNylas(run: Recovery, records: readonly KeyRecord[]): Promise<void> {
  const known = byKeyId(records);
  for (const p of run.app.passwordCredentials) {
    const marker = parseMarker(p.displayName);
    if (marker === undefined) continue;
    const record = known.get(p.keyId);
    if (record !== undefined) {
      if (neverSentByRecord(record))
        await removeOrphan(run, p.keyId, record, "created but never sent to Nylas");
      continue;
    }
    if (marker.installationId !== run.deps.installationId) continue; // another installation's: ownership.ts
    const attempt = await loadAttempt(run.deps.store, marker.rotationId);
    const verdict = judgeByAttempt(p.keyId, marker, attempt, run.deps.installationId);
    if ("remove" in verdict) {
      await removeOrphan(run, p.keyId, undefined, verdict.remove);
      continue;
    }
    run.report.unprovable.push(p.keyId);
    if (verdict.keep === "no-record")
      run.deps.logger.warn(
        `rotation: secret ${p.keyId} carries this installation's marker but no record of rotation ${marker.rotationId} exists: it may be in the connector, so it is kept`,
      );
  }
}

/** Why: "sent" is recorded before any PATCH, so a key still "created" never reached Nylas. */
function neverSentByRecord(record: KeyRecord): boolean {
  return record.state === "created";
}

/**
 * What the attempt record of the rotation that made a key (with no key record) proves about it. Why:
 * only this installation's own durable record is evidence; without one the key may be in the connector.
 */
function judgeByAttempt(
  keyId: string,
  marker: Marker,
  attempt: AttemptRecord | undefined,
  installationId: string,
): { remove: string } | { keep: "no-record" | "sent" } {
  if (attempt === undefined || attempt.installationId !== installationId) return { keep: "no-record" };
  // Nobody had the value to send when addPassword's answer never arrived.
  if (!attempt.receivedKeyIds.includes(keyId))
    return {
      remove: `rotation ${marker.rotationId} never received its value (an addPassword answer was lost), so it cannot be in the connector`,
    };
  // sentKeyId is written before the PATCH: any other key of the attempt was never sent.
  if (attempt.sentKeyId !== keyId) return { remove: `rotation ${marker.rotationId} never sent it to Nylas` };
  return { keep: "sent" };
}

async function removeOrphan(run: Recovery, keyId: string, record: KeyRecord | undefined, why: string) {
  const { deps } = run;
  deps.logger.warn(`rotation recovery: removing secret ${keyId}: ${why}`);
  run.report.removedOrphans.push(keyId);
  if (deps.dryRun) return;
  if ((await removeKeyWithRetry(deps.graph, run.app.id, keyId, deps)) && record)
    await saveKeyRecord(deps.store, { ...record, state: "removed", removedAt: run.now.toISOString() });
}

/**
 * Recorded keys missing from the app. One read proves nothing (a contradictory or lagging answer), and
 * nothing durable is rewritten from it: a key counts as deleted only when the previous pass's read missed
 * it too.
 */
async function recordKeysDeletedOutside(run: Recovery, records: readonly KeyRecord[]): Promise<void> {
  const { deps, report } = run;
  // An app read with no secrets at all while keys are recorded contradicts what is known: never enough.
  const everythingMissing = run.present.size === 0;
  for (const r of records) {
    if (!expectedOnApp(r) || run.present.has(r.keyId)) continue;
    if (everythingMissing || !missedByEarlierRead(r.keyId, deps.previousRead, run.now)) {
      report.unconfirmedMissing.push(r.keyId);
      continue;
    }
    report.vanished.push(r.keyId);
    deps.logger.warn(
      `rotation: secret ${r.keyId} (${r.state}) was deleted from the app registration outside the watchdog`,
    );
    if (!deps.dryRun)
      await saveKeyRecord(deps.store, { ...r, state: "removed", removedAt: run.now.toISOString() });
  }
}

/** Why: the foreign pseudo-record is no key on the app, and a removed key is not expected there. */
function expectedOnApp(record: KeyRecord): boolean {
  return record.keyId !== FOREIGN && record.state !== "removed";
}

/** Why: two reads at least CONFIRM_MISSING_MS apart, both missing the key, outweigh one lagging answer. */
function missedByEarlierRead(keyId: string, previous: RecoveryDeps["previousRead"], now: Date): boolean {
  return (
    previous !== undefined &&
    now.getTime() - Date.parse(previous.at) >= CONFIRM_MISSING_MS &&
    !previous.keyIds.includes(keyId)
  );
}

/** Interrupted between "installed" and "superseded": the latest installed key wins. */
async function supersedeBeforeLatestInstall(run: Recovery, records: readonly KeyRecord[]): Promise<void> {
  const { store } = run.deps;
  // A key one read missed may still be on the app (and in the connector) until a second read confirms.
  const unconfirmed = run.report.unconfirmedMissing;
  const latest = installedKey(
    records.filter((r) => r.keyId === FOREIGN || run.present.has(r.keyId) || unconfirmed.includes(r.keyId)),
  );
  if (latest === undefined) return;
  for (const r of records) {
    if (r.keyId === latest.keyId || !supersededByInstall(r, latest)) continue;
    const current = await store.get<KeyRecord>("rotation", keyRecordKey(r.appId, r.keyId));
    if (current === undefined) continue;
    await saveKeyRecord(store, {
      ...current.value,
      state: "superseded",
      supersededAt: latest.installedAt ?? run.now.toISOString(),
      supersededBy: latest.rotationId,
    });
  }
}

/**
 * Why: a definitive install replaces every key installed before it and every key sent strictly before
 * it; a key sent in the same instant as the install (the adoption record of its own rotation) was not
 * superseded by it.
 */
function supersededByInstall(record: KeyRecord, latest: KeyRecord): boolean {
  const installedAt = latest.installedAt ?? "";
  const olderInstalled = record.state === "installed" && (record.installedAt ?? "") <= installedAt;
  const sentBefore = record.state === "sent" && (record.windowStart ?? "") < installedAt;
  return olderInstalled || sentBefore;
}
