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
import { parseMarker } from "./marker.js";
import {
  FOREIGN,
  INFLIGHT_KEY,
  keyRecordKey,
  loadAttempt,
  saveKeyRecord,
  loadKeyRecords,
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
  const report: RecoveryReport = {
    removedOrphans: [],
    markedAmbiguous: [],
    vanished: [],
    unconfirmedMissing: [],
    unprovable: [],
    interrupted: undefined,
  };
  const nowDate = deps.clock.now();
  const now = nowDate.toISOString();
  const present = new Map(app.passwordCredentials.map((p) => [p.keyId, p]));
  const inflight = (await deps.store.get<InflightRecord>("rotation", INFLIGHT_KEY))?.value;
  let records = (await loadKeyRecords(deps.store, app.appId)).map((i) => i.value);
  const byId = () => new Map(records.map((r) => [r.keyId, r]));

  const remove = async (keyId: string, record: KeyRecord | undefined, why: string) => {
    deps.logger.warn(`rotation recovery: removing secret ${keyId}: ${why}`);
    report.removedOrphans.push(keyId);
    if (deps.dryRun) return;
    if (await removeKeyWithRetry(deps.graph, app.id, keyId, deps)) {
      if (record) await saveKeyRecord(deps.store, { ...record, state: "removed", removedAt: now });
    }
  };

  if (inflight !== undefined && inflight.appId === app.appId) {
    report.interrupted = inflight.rotationId;
    const record = inflight.keyId ? byId().get(inflight.keyId) : undefined;
    if (inflight.phase === "installing" && record !== undefined && record.state === "sent") {
      // The PATCH may have happened: keep the key; a later definitive switch (or evidence) settles it.
      report.markedAmbiguous.push(record.keyId);
      if (!deps.dryRun) await saveKeyRecord(deps.store, { ...record, ambiguous: true });
    }
    if (!deps.dryRun) await deps.store.delete("rotation", INFLIGHT_KEY);
    records = (await loadKeyRecords(deps.store, app.appId)).map((i) => i.value);
  }

  const known = byId();
  for (const p of app.passwordCredentials) {
    const marker = parseMarker(p.displayName);
    if (marker === undefined) continue;
    const record = known.get(p.keyId);
    if (record !== undefined) {
      // "sent" is recorded before any PATCH: a key still "created" never reached Nylas.
      if (record.state === "created") await remove(p.keyId, record, "created but never sent to Nylas");
      continue;
    }
    if (marker.installationId !== deps.installationId) continue; // another installation's: ownership.ts
    const attempt = await loadAttempt(deps.store, marker.rotationId);
    if (attempt === undefined || attempt.installationId !== deps.installationId) {
      report.unprovable.push(p.keyId);
      deps.logger.warn(
        `rotation: secret ${p.keyId} carries this installation's marker but no record of rotation ${marker.rotationId} exists: it may be in the connector, so it is kept`,
      );
    } else if (!attempt.receivedKeyIds.includes(p.keyId)) {
      await remove(
        p.keyId,
        undefined,
        `rotation ${marker.rotationId} never received its value (an addPassword answer was lost), so it cannot be in the connector`,
      );
    } else if (attempt.sentKeyId !== p.keyId) {
      await remove(p.keyId, undefined, `rotation ${marker.rotationId} never sent it to Nylas`);
    } else {
      report.unprovable.push(p.keyId);
    }
  }

  // Recorded keys missing from the app. One read proves nothing (a contradictory or lagging answer), and
  // nothing durable is rewritten from it: a key counts as deleted only when the previous pass's read, at
  // least a few minutes earlier, missed it too. An app read with no secrets at all while keys are recorded
  // contradicts what is known and is never enough.
  const previous = deps.previousRead;
  const missedBefore = (keyId: string) =>
    previous !== undefined &&
    nowDate.getTime() - Date.parse(previous.at) >= CONFIRM_MISSING_MS &&
    !previous.keyIds.includes(keyId);
  const everythingMissing = app.passwordCredentials.length === 0;
  for (const r of records) {
    if (r.keyId === FOREIGN || r.state === "removed" || present.has(r.keyId)) continue;
    if (everythingMissing || !missedBefore(r.keyId)) {
      report.unconfirmedMissing.push(r.keyId);
      continue;
    }
    report.vanished.push(r.keyId);
    deps.logger.warn(
      `rotation: secret ${r.keyId} (${r.state}) was deleted from the app registration outside the watchdog`,
    );
    if (!deps.dryRun) await saveKeyRecord(deps.store, { ...r, state: "removed", removedAt: now });
  }
  if (report.vanished.length > 0 || report.markedAmbiguous.length > 0)
    records = (await loadKeyRecords(deps.store, app.appId)).map((i) => i.value);

  // Interrupted between "installed" and "superseded": the latest installed key wins.
  const installed = records
    .filter(
      (r) =>
        r.state === "installed" &&
        (r.keyId === FOREIGN || present.has(r.keyId) || report.unconfirmedMissing.includes(r.keyId)),
    )
    .sort((a, b) => (a.installedAt ?? "").localeCompare(b.installedAt ?? ""));
  const latest = installed.at(-1);
  if (latest !== undefined && !deps.dryRun) {
    for (const r of records) {
      if (r.keyId === latest.keyId) continue;
      const olderInstalled = r.state === "installed" && (r.installedAt ?? "") <= (latest.installedAt ?? "");
      // Strictly before: a key sent in the same instant as the install (the adoption record of its own
      // rotation) was not superseded by it.
      const sentBefore = r.state === "sent" && (r.windowStart ?? "") < (latest.installedAt ?? "");
      if (olderInstalled || sentBefore) {
        const current = await deps.store.get<KeyRecord>("rotation", keyRecordKey(r.appId, r.keyId));
        if (current === undefined) continue;
        await saveKeyRecord(deps.store, {
          ...current.value,
          state: "superseded",
          supersededAt: latest.installedAt ?? now,
          supersededBy: latest.rotationId,
        });
      }
    }
  }
  return report;
}
