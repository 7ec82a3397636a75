/**
 * The migration and retirement step of a pass: read every valid Microsoft
 * grant completely and consistently, judge Entra's sign-in evidence, then act
 * on the decisions of migration-plan.ts (who is asked to sign in again) and
 * retire.ts (which superseded secret may go). Decisions are made there; this
 * file reads, then does what they say.
 */
import type { GraphApplication } from "../clients/graph.js";
import type { IncidentManager } from "../incidents/incident-manager.js";
import type { Signal } from "../incidents/incident.js";
import { judgeEvidence, type Evidence, type EvidenceMode, type SignInReport } from "./evidence.js";
import {
  migrationIncidentKey,
  migrationSignal,
  reauthAnnouncement,
  type KeyDependents,
  type MigrationTracker,
} from "./migrate.js";
import { planMigration, type KeyPlan } from "./migration-plan.js";
import { executeRetirement, planRetirement, type RetirementAction } from "./retire.js";
import { loadKeyRecordValues, saveKeyRecord, type KeyRecord } from "./records.js";
import type { RotationPorts } from "./ports.js";
import { readDependents, readIsDecisive, type GrantRead, type ReadJudgement } from "./read-dependents.js";

export interface MigrationPorts extends RotationPorts {
  incidents: Pick<IncidentManager, "announce">;
}

export interface AlertPort {
  raise(signal: Signal): void;
  resolve(key: string, note: string): void;
}

export interface MigrationOutcome {
  dependents: number;
  byKey: KeyDependents[];
  reauthRequested: number;
  plans: KeyPlan[];
  evidence: { mode: EvidenceMode; reason: string };
  /** Valid Microsoft grants in the read; null when nothing needed reading. */
  validGrants: number | null;
  /** The grant read was complete and consistent (re-read when the list changed under it). */
  complete: boolean;
  retirement: RetirementAction[];
  retired: string[];
}

export interface MigrationStepOptions extends ReadJudgement {
  dryRun: boolean;
  note: (line: string) => void;
  alerts: AlertPort;
}

export async function runMigrationStep(
  app: GraphApplication,
  report: SignInReport,
  ports: MigrationPorts,
  options: MigrationStepOptions,
): Promise<MigrationOutcome> {
  const { config, clock, store, logger } = ports;
  const now = clock.now();
  const records = await loadKeyRecordValues(store, app.appId);
  if (!records.some((r) => r.state === "superseded")) {
    const evidence = judgeEvidence(report, records, undefined, now);
    options.alerts.resolve(migrationIncidentKey(app.appId), "No superseded secret is depended on.");
    return { ...emptyOutcome(), evidence: { mode: evidence.mode, reason: evidence.reason } };
  }

  const read = await readDependents(records, ports);
  const complete = readIsDecisive(read, options, logger);
  const evidence: Evidence = judgeEvidence(report, records, complete ? read.validGrants : undefined, now);
  const plans = planMigration(read.tracker.byKey(), records, evidence, now, config.rotation);
  const pendingKeys = keysStillToMove(plans);
  const outcome: MigrationOutcome = {
    ...emptyOutcome(),
    byKey: read.tracker.byKey(),
    plans,
    evidence: { mode: evidence.mode, reason: evidence.reason },
    validGrants: read.validGrants,
    complete,
    dependents: read.dependents.filter((dep) => dep.keyIds.some((k) => pendingKeys.has(k))).length,
  };
  if (evidence.mode === "blind") logger.warn(`migration: ${evidence.reason}`);

  outcome.reauthRequested = await requestReauthentication(read, plans, ports, options, now);
  noteReauthentication(outcome.reauthRequested, plans, options.note);
  updateMigrationIncident(app.appId, outcome, pendingKeys, { config, alerts: options.alerts, now });
  if (complete && !options.dryRun) await recordNoDependents(records, read.tracker, ports, now);

  outcome.retirement = planRetirement({
    app,
    records,
    dependents: (keyId) => read.tracker.countFor(keyId),
    complete,
    evidence,
    now,
    config: config.rotation,
  });
  for (const a of outcome.retirement)
    if (a.action !== "keep")
      options.note(`${a.action === "remove" ? "remove" : "stop tracking"} secret ${a.keyId}: ${a.reason}`);
  if (!options.dryRun)
    outcome.retired = await executeRetirement(app, records, outcome.retirement, {
      store,
      graph: ports.graph,
      clock,
      logger,
    });
  return outcome;
}

function emptyOutcome(): MigrationOutcome {
  return {
    dependents: 0,
    byKey: [],
    reauthRequested: 0,
    plans: [],
    evidence: { mode: "unavailable", reason: "" },
    validGrants: null,
    complete: true,
    retirement: [],
    retired: [],
  };
}

/** Why: a key whose inferred dependents Nylas moved (Entra saw it go quiet) leaves nobody to ask. */
function keysStillToMove(plans: readonly KeyPlan[]): Set<string> {
  return new Set(plans.filter((p) => p.inferred > 0 && p.verdict !== "moved").map((p) => p.keyId));
}

/**
 * Asks users to sign in again, only for keys the plan says to ask for. Why once per (rotation, grant): a
 * durable request record keeps later passes from asking the same user again. Returns how many are new.
 */
async function requestReauthentication(
  read: GrantRead,
  plans: readonly KeyPlan[],
  ports: MigrationPorts,
  options: MigrationStepOptions,
  now: Date,
): Promise<number> {
  const { store, config } = ports;
  const requesting = new Set(plans.filter((p) => p.requestReauth).map((p) => p.keyId));
  let requested = 0;
  for (const dep of read.dependents) {
    for (const rotationId of read.tracker.rotationIdsFor(dep, requesting)) {
      const requestKey = `reauth:${rotationId}:${dep.grant.id}`;
      if ((await store.get("grants", requestKey)) !== undefined) continue;
      requested++;
      if (options.dryRun) continue;
      await ports.incidents.announce(reauthAnnouncement(dep, rotationId, config.nylas, now));
      await store.put("grants", requestKey, {
        grantId: dep.grant.id,
        rotationId,
        requestedAt: now.toISOString(),
        deadline: dep.deadline,
      });
    }
  }
  return requested;
}

function noteReauthentication(
  requested: number,
  plans: readonly KeyPlan[],
  note: (line: string) => void,
): void {
  if (requested > 0) note(`request re-authentication of ${requested} grant(s) (grant.reauth_requested)`);
  for (const p of plans.filter((p) => p.verdict === "waiting" && p.inferred > 0))
    note(`wait before asking ${p.inferred} user(s) on secret ${p.keyId} to sign in again: ${p.reason}`);
}

/**
 * Raises the migration incident while users must still sign in again, and resolves it once nobody must:
 * Nylas moved them (Entra saw the old key go quiet), or a complete read found no dependent grant. An
 * incomplete read with no dependents changes nothing.
 */
function updateMigrationIncident(
  appId: string,
  outcome: Pick<MigrationOutcome, "byKey" | "plans" | "dependents" | "complete">,
  pendingKeys: ReadonlySet<string>,
  at: { config: MigrationPorts["config"]; alerts: AlertPort; now: Date },
): void {
  const { plans, dependents } = outcome;
  const key = migrationIncidentKey(appId);
  const moved = plans.filter((p) => p.verdict === "moved");
  if (dependents > 0) {
    const pending = outcome.byKey.filter((k) => pendingKeys.has(k.keyId));
    const waitingUntil = earliestDeferral(plans, pendingKeys);
    at.alerts.raise(migrationSignal(appId, pending, dependents, at.now, at.config, waitingUntil));
  } else if (moved.length > 0) {
    const n = moved.reduce((sum, p) => sum + p.inferred, 0);
    at.alerts.resolve(
      key,
      `Migration complete: Entra reports no sign-in with the old secret (${moved.map((p) => p.keyId).join(", ")}) since the switch, while ${n} valid grant(s) were said to depend on it: Nylas moved them to the new secret. Nobody needs to sign in again.`,
    );
  } else if (outcome.complete) {
    at.alerts.resolve(key, "Migration complete: no valid grant depends on a superseded secret.");
  }
}

/** When every pending key is only waiting for evidence, the earliest moment one of them is decided. */
function earliestDeferral(plans: readonly KeyPlan[], pendingKeys: ReadonlySet<string>): string | null {
  const pendingPlans = plans.filter((p) => pendingKeys.has(p.keyId));
  if (!pendingPlans.every((p) => p.verdict === "waiting")) return null;
  return (
    pendingPlans
      .map((p) => p.deferredUntil)
      .filter((d): d is string => d !== null)
      .sort()[0] ?? null
  );
}

/**
 * What later passes need: the first complete pass that found no dependents. Why: without sign-in
 * evidence, retirement needs two such passes running, so a pass that finds dependents again clears it.
 */
async function recordNoDependents(
  records: readonly KeyRecord[],
  tracker: MigrationTracker,
  ports: MigrationPorts,
  now: Date,
): Promise<void> {
  for (const r of records.filter((r) => r.state === "superseded")) {
    const none = tracker.countFor(r.keyId) === 0;
    if (none && r.noDependentsSince === undefined)
      await saveKeyRecord(ports.store, { ...r, noDependentsSince: now.toISOString() });
    else if (!none && r.noDependentsSince !== undefined) {
      const { noDependentsSince: _cleared, ...rest } = r;
      await saveKeyRecord(ports.store, rest);
    }
  }
}
