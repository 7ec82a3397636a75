/**
 * Finishes or cleans up after a run that stopped mid-rotation, and removes
 * orphans. Runs under the single-flight lease, before anything is planned.
 *
 * The one rule: a secret is removed only when it is provably not in the
 * connector — it was never sent to Nylas, or a later definitive switch
 * installed another. A key that may have been sent is kept (ambiguous) until
 * such a switch.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication, GraphClient } from "../clients/graph.js";
import { rotationIdOf } from "./marker.js";
import {
  FOREIGN,
  INFLIGHT_KEY,
  keyRecordKey,
  saveKeyRecord,
  loadKeyRecords,
  type InflightRecord,
  type KeyRecord,
} from "./records.js";
import { removeKeyWithRetry } from "./rotate.js";

export interface RecoveryReport {
  /** Keys removed because they never reached Nylas. */
  removedOrphans: string[];
  /** Keys kept because a PATCH carrying them may have reached Nylas. */
  markedAmbiguous: string[];
  /** Keys the watchdog recorded that someone deleted from the app. */
  vanished: string[];
  /** An interrupted rotation was found (and finished or cleaned up). */
  interrupted: string | undefined;
}

export interface RecoveryDeps {
  store: StateStore;
  graph: GraphClient;
  clock: Clock;
  logger: Logger;
  /** Dry run: report what would be done, change nothing. */
  dryRun: boolean;
}

export async function recoverRotation(app: GraphApplication, deps: RecoveryDeps): Promise<RecoveryReport> {
  const report: RecoveryReport = {
    removedOrphans: [],
    markedAmbiguous: [],
    vanished: [],
    interrupted: undefined,
  };
  const now = deps.clock.now().toISOString();
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
      // The PATCH may have happened: keep the key; a later definitive switch supersedes it.
      report.markedAmbiguous.push(record.keyId);
      if (!deps.dryRun) await saveKeyRecord(deps.store, { ...record, ambiguous: true });
    } else if (inflight.phase !== "installing") {
      // Never sent: every key this rotation created goes, recorded or not.
      for (const p of app.passwordCredentials) {
        if (rotationIdOf(p.displayName) === inflight.rotationId) {
          await remove(
            p.keyId,
            byId().get(p.keyId),
            `rotation ${inflight.rotationId} stopped before sending it to Nylas`,
          );
        }
      }
    }
    if (!deps.dryRun) await deps.store.delete("rotation", INFLIGHT_KEY);
    records = (await loadKeyRecords(deps.store, app.appId)).map((i) => i.value);
  }

  // Keys created but never sent, outside any rotation in flight: a crash between recording and proving.
  for (const r of records) {
    if (r.state === "created" && r.keyId !== FOREIGN && present.has(r.keyId)) {
      await remove(r.keyId, r, "created but never sent to Nylas");
    }
  }

  // Watchdog-marked keys the watchdog has no record of: addPassword answered after a crash or a retry
  // created a twin. Never sent (sending requires a record first), so not in the connector.
  const known = byId();
  for (const p of app.passwordCredentials) {
    const rid = rotationIdOf(p.displayName);
    if (rid !== undefined && !known.has(p.keyId) && rid !== inflight?.rotationId) {
      await remove(p.keyId, undefined, "watchdog-created, never recorded, so never sent to Nylas");
    }
  }

  // Recorded keys someone deleted from the app.
  for (const r of records) {
    if (r.keyId === FOREIGN || r.state === "removed" || present.has(r.keyId)) continue;
    report.vanished.push(r.keyId);
    deps.logger.warn(
      `rotation: secret ${r.keyId} (${r.state}) was deleted from the app registration outside the watchdog`,
    );
    if (!deps.dryRun) await saveKeyRecord(deps.store, { ...r, state: "removed", removedAt: now });
  }

  // Interrupted between "installed" and "superseded": the latest installed key wins.
  const installed = records
    .filter((r) => r.state === "installed" && (r.keyId === FOREIGN || present.has(r.keyId)))
    .sort((a, b) => (a.installedAt ?? "").localeCompare(b.installedAt ?? ""));
  const latest = installed.at(-1);
  if (latest !== undefined && !deps.dryRun) {
    for (const r of records) {
      if (r.keyId === latest.keyId) continue;
      const olderInstalled = r.state === "installed" && (r.installedAt ?? "") <= (latest.installedAt ?? "");
      const sentBefore = r.state === "sent" && (r.windowStart ?? "") <= (latest.installedAt ?? "");
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
