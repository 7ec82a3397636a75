/**
 * The connector's part of a pass, under the rotation lease:
 *
 *   ownership → recover → settle an unconfirmed install → rotate if due →
 *   the connector's expiry incidents → migrate and retire
 *
 * Decisions are made elsewhere (ownership.ts, recover.ts, settle.ts,
 * connector-keys.ts through rotate-if-due.ts, and migration-plan.ts and
 * retire.ts through the migration step) and every incident is built in
 * signals.ts; this file reads, asks them, and does what they say. With
 * `dryRun`, every write is a line passed to `note` instead.
 */
import { randomUUID } from "node:crypto";
import { acquireLease, type Lease } from "../state/lease.js";
import { currentDeadline } from "../clients/retry.js";
import type { GraphApplication } from "../clients/graph.js";
import type { MicrosoftConnector } from "../clients/nylas.js";
import { needsAttention, thresholdsOf } from "../watch/classify.js";
import { connectorKeys, keyStatus, type ConnectorKey } from "./connector-keys.js";
import type { SignInReport } from "./evidence.js";
import { runMigrationStep, type MigrationOutcome, type MigrationPorts } from "./migration-step.js";
import { claimConnector } from "./ownership-step.js";
import { loadKeyRecordValues } from "./records.js";
import { readPassRecord, type PassStop } from "./pass-record.js";
import { PassStopped, timeStop } from "./pass-stop.js";
import { recoverRotation, type RecoveryReport } from "./recover.js";
import {
  rotateIfDue,
  type ConnectorAlerts,
  type RotationOptions,
  type RotationSummary,
} from "./rotate-if-due.js";
import { settleAmbiguousInstall } from "./settle.js";
import { connectorExpiringSignal } from "./signals.js";

export type { ConnectorAlerts, RotationOptions, RotationSummary } from "./rotate-if-due.js";

/** What the step uses: the migration step's ports, nothing more. */
export type ConnectorPorts = MigrationPorts;

export interface ConnectorStepInput extends RotationOptions {
  /** The connector's app registration, as the scan read it (rotation works on the same read). */
  app: GraphApplication;
  connector: MicrosoftConnector;
  /** Entra's per-credential sign-in report, as the scan read it beside the app. */
  signIns: SignInReport;
  dryRun: boolean;
  note: (line: string) => void;
  alerts: ConnectorAlerts;
}

export type ConnectorMigration = Pick<
  MigrationOutcome,
  "dependents" | "byKey" | "reauthRequested" | "plans" | "evidence" | "validGrants" | "complete"
>;

export interface ConnectorStepResult {
  rotation: RotationSummary;
  recovery: RecoveryReport | null;
  /** Absent when the step stopped before migrating (another pass holds the lease, another installation). */
  migration?: ConnectorMigration;
  retired: string[];
  /** The pass's deadline stopped the step before rotating or migrating: the pass ends here. */
  stopped?: PassStop;
}

export async function runConnectorStep(
  ports: ConnectorPorts,
  input: ConnectorStepInput,
): Promise<ConnectorStepResult> {
  const { config, clock, logger, store } = ports;
  let lease: Lease | undefined;
  if (!input.dryRun) {
    lease = await acquireLease(store, `rotation:${input.app.appId}`, {
      holder: randomUUID(),
      ttlMs: (config.rotation.propagationTimeoutSeconds + 600) * 1000,
      clock,
    });
    if (lease === undefined) {
      const rotation: RotationSummary = {
        decision: "skipped-locked",
        reason: "another pass holds the rotation lease; it rotates, migrates and retires this time",
        connectorKeys: [],
      };
      logger.info(`secretWatchdog: ${rotation.reason}`);
      return { rotation, recovery: null, retired: [] };
    }
  }
  try {
    return await underLease(ports, input);
  } finally {
    await lease?.release();
  }
}

async function underLease(ports: ConnectorPorts, input: ConnectorStepInput): Promise<ConnectorStepResult> {
  const { config, clock, store, graph } = ports;
  const { dryRun, note, alerts } = input;
  const appId = input.app.appId;
  const thresholds = thresholdsOf(config);
  let app = input.app;
  const refresh = async () => {
    app = (await graph.getApplicationByAppId(appId)) ?? app;
    return app;
  };

  const claim = await claimConnector(ports, input);
  if ("refused" in claim)
    return {
      rotation: { decision: "other-installation", reason: claim.refused, connectorKeys: [] },
      recovery: null,
      retired: [],
    };
  const { installation } = claim;
  // A takeover must be visible on the app: the other installation stops only when it finds a key it
  // does not know, so an adopting pass rotates at once.
  const rotateInput = claim.adopted
    ? {
        ...input,
        forceRotate: true,
        forceReason: "--adopt: the takeover must be visible to the other installation",
      }
    : input;

  // Recover from an interrupted run first: it may change what is on the app.
  const previous = await readPassRecord(store);
  const recovery = await recoverRotation(app, {
    store,
    graph,
    clock,
    logger: ports.logger,
    dryRun,
    installationId: installation.id,
    previousRead:
      previous?.connectorSecrets === undefined
        ? undefined
        : { at: previous.startedAt, keyIds: previous.connectorSecrets.map((k) => k.keyId) },
  });
  for (const k of recovery.removedOrphans) note(`remove orphaned watchdog secret ${k} (never sent to Nylas)`);
  for (const k of recovery.markedAmbiguous)
    note(`keep secret ${k}: its connector update was interrupted (ambiguous)`);
  if (recovery.removedOrphans.length > 0 && !dryRun) await refresh();

  // Entra's sign-in evidence (read once, by the scan): it settles an unconfirmed install, and the migration
  // uses it.
  const report = input.signIns;
  let records = await loadKeyRecordValues(store, appId);
  const settled = await settleAmbiguousInstall(records, report, {
    store,
    clock,
    logger: ports.logger,
    dryRun,
  });
  if (settled !== undefined) {
    note(settled);
    records = await loadKeyRecordValues(store, appId);
  }

  // The connector's own secret close to expiry and not fixed by rotation.
  const raiseExpiring = (keys: readonly ConnectorKey[]) => {
    for (const k of keys) {
      const status = keyStatus(k, clock.now(), thresholds);
      if (needsAttention(status))
        alerts.raise(connectorExpiringSignal(appId, k, status, clock.now(), config.rotation.mode));
    }
  };
  // Rotation re-reads the app through `refresh`, so `app` is what the migration must see afterwards.
  let rotation: RotationSummary;
  try {
    rotation = await rotateIfDue(ports, rotateInput, { app, records, installation, refresh });
  } catch (error) {
    if (!(error instanceof PassStopped)) throw error;
    // Stopped before rotating: on-call still hears of a secret close to expiry.
    const keys = connectorKeys(app, records, clock.now());
    raiseExpiring(keys);
    const stopped = { decision: "stopped", reason: error.stop.reason, connectorKeys: keys } as const;
    return { rotation: stopped, recovery, retired: [], stopped: error.stop };
  }
  raiseExpiring(rotation.connectorKeys);

  // 3. Migration and 4. retirement: who still depends on superseded secrets, who is asked, what may go.
  const stopped = timeStop("migrate", currentDeadline(), 0, clock.now());
  if (stopped !== undefined) return { rotation, recovery, retired: [], stopped };
  const migration = await runMigrationStep(app, report, ports, {
    dryRun,
    note,
    alerts,
    previousValidGrants: previous?.migration?.validGrants ?? null,
    appReadContradicts: recovery.unconfirmedMissing.length > 0,
  });
  return {
    rotation,
    recovery,
    migration: {
      dependents: migration.dependents,
      byKey: migration.byKey,
      reauthRequested: migration.reauthRequested,
      plans: migration.plans,
      evidence: migration.evidence,
      validGrants: migration.validGrants,
      complete: migration.complete,
    },
    retired: migration.retired,
  };
}
