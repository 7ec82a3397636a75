/**
 * Who manages this connector? A key another installation made may be in it:
 * change nothing unless told `--adopt` (ownership.ts decides; this step loads
 * what it needs, records an adoption, and says so).
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication } from "../clients/graph.js";
import type { AlertCollector } from "../incidents/alert-collector.js";
import { loadInstallation, recordAdoption, type InstallationRecord } from "./installation.js";
import { describeOtherInstallation, judgeOwnership } from "./ownership.js";
import { FOREIGN, loadKeyRecords, saveKeyRecord, type KeyRecord } from "./records.js";
import { earliestForeignExpiry } from "./connector-keys.js";
import { installationConflictSignal, installationSettled } from "./signals.js";

/**
 * This installation manages the connector, or it was refused and says why.
 * `adopted`: it took the connector over on this pass, and must now rotate so
 * the other installation finds a key it does not know, and stops in turn.
 */
export type Claim = { installation: InstallationRecord; adopted: boolean } | { refused: string };

export async function claimConnector(
  ports: { clock: Clock; logger: Logger; store: StateStore },
  input: {
    app: GraphApplication;
    dryRun: boolean;
    adopt?: boolean;
    note: (line: string) => void;
    alerts: Pick<AlertCollector, "raise" | "resolve">;
  },
): Promise<Claim> {
  const { clock, logger, store } = ports;
  const { app, dryRun, note, alerts } = input;
  const appId = app.appId;
  let installation = (await loadInstallation(store, clock, { create: !dryRun })).record;
  const records = (await loadKeyRecords(store, appId)).map((i) => i.value);
  const ownership = judgeOwnership(app, records, installation);
  if (ownership.others.length > 0 && input.adopt !== true) {
    const reason = describeOtherInstallation(ownership, store.description);
    alerts.raise(installationConflictSignal(appId, installation.id, ownership));
    logger.warn(`secretWatchdog: ${reason}`);
    return { refused: reason };
  }
  if (ownership.others.length > 0) {
    note(
      `adopt the connector from ${ownership.installations.map((i) => i.id).join(", ")}: their secret(s) ${ownership.others.map((k) => k.keyId).join(", ")} are kept and never removed by this installation; rotate now, so the other installation finds a key it does not know and stops`,
    );
    if (!dryRun) {
      await recordAdoptedKeys(store, app, records, ownership.others, clock.now());
      installation = await recordAdoption(store, installation, {
        at: clock.now().toISOString(),
        keyIds: ownership.others.map((k) => k.keyId),
        from: ownership.installations.map((i) => i.id),
      });
    }
  }
  if (!dryRun) {
    const settled = installationSettled(appId, installation.id);
    alerts.resolve(settled.key, settled.note);
  }
  return { installation, adopted: ownership.others.length > 0 };
}

/**
 * The adopted keys become records like this installation's own: each may be in
 * the connector (the newest most likely: every rotation installs its new key),
 * and grants that signed in since it was created may use it. Secrets nobody's
 * watchdog made are covered by the foreign record, as at a first adoption.
 */
async function recordAdoptedKeys(
  store: StateStore,
  app: GraphApplication,
  records: readonly KeyRecord[],
  others: readonly { keyId: string; rotationId: string; rotatedAt: string; endDateTime: string | null }[],
  now: Date,
): Promise<void> {
  const started = new Map(app.passwordCredentials.map((p) => [p.keyId, p.startDateTime]));
  if (!records.some((r) => r.keyId === FOREIGN)) {
    const known = new Set([...records.map((r) => r.keyId), ...others.map((k) => k.keyId)]);
    const foreign = app.passwordCredentials.filter((p) => !known.has(p.keyId));
    if (foreign.length > 0) {
      const earliest = foreign.map((p) => p.startDateTime ?? "1970-01-01T00:00:00.000Z").sort()[0]!;
      await saveKeyRecord(store, {
        v: 1,
        keyId: FOREIGN,
        appId: app.appId,
        appObjectId: app.id,
        rotationId: others[0]?.rotationId ?? "adoption",
        createdAt: now.toISOString(),
        endDateTime: earliestForeignExpiry(app, [...records, ...others], now),
        state: "installed",
        windowStart: null,
        installedAt: earliest,
      });
    }
  }
  for (const k of others) {
    const since = started.get(k.keyId) ?? k.rotatedAt;
    await saveKeyRecord(store, {
      v: 1,
      keyId: k.keyId,
      appId: app.appId,
      appObjectId: app.id,
      rotationId: k.rotationId,
      createdAt: now.toISOString(),
      endDateTime: k.endDateTime,
      state: "installed",
      windowStart: since,
      // When it could first have been installed: recovery's "latest installed wins" then supersedes the
      // older ones (this installation's own included) from the moment a newer key appeared.
      installedAt: since,
      origin: "adopted",
    });
  }
}
