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
import { reauthAnnouncement, type KeyDependents, type MigrationTracker } from "./migrate.js";
import {
  decideMigrationIncident,
  pendingKeys,
  planMigration,
  type KeyPlan,
  type MigrationIncidentInput,
} from "./migration-plan.js";
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
    const outcome: MigrationOutcome = {
      ...emptyOutcome(),
      evidence: { mode: evidence.mode, reason: evidence.reason },
    };
    applyMigrationDecision(app.appId, outcome, { config, alerts: options.alerts, now });
    return outcome;
  }

  const read = await readDependents(records, ports);
  const complete = readIsDecisive(read, options, logger);
  const evidence: Evidence = judgeEvidence(report, records, complete ? read.validGrants : undefined, now);
  const plans = planMigration(read.tracker.byKey(), records, evidence, now, config.rotation);
  const pending = pendingKeys(plans);
  const outcome: MigrationOutcome = {
    ...emptyOutcome(),
    byKey: read.tracker.byKey(),
    plans,
    evidence: { mode: evidence.mode, reason: evidence.reason },
    validGrants: read.validGrants,
    complete,
    dependents: read.dependents.filter((dep) => dep.keyIds.some((k) => pending.has(k))).length,
  };
  if (evidence.mode === "blind") logger.warn(`migration: ${evidence.reason}`);

  outcome.reauthRequested = await requestReauthentication(read, plans, ports, options, now);
  noteReauthentication(outcome.reauthRequested, plans, options.note);
  applyMigrationDecision(app.appId, outcome, { config, alerts: options.alerts, now });
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
 * Does what migration-plan.ts decides about the migration incident: the pass and the sweep share that one
 * decision, so its words cannot drift apart.
 */
function applyMigrationDecision(
  appId: string,
  outcome: Pick<MigrationOutcome, "byKey" | "plans" | "dependents" | "complete">,
  at: Pick<MigrationIncidentInput, "config" | "now"> & { alerts: AlertPort },
): void {
  const change = decideMigrationIncident({
    appId,
    byKey: outcome.byKey,
    dependents: outcome.dependents,
    plans: outcome.plans,
    complete: outcome.complete,
    now: at.now,
    config: at.config,
  });
  if (change.action === "raise") at.alerts.raise(change.signal);
  else if (change.action === "resolve") at.alerts.resolve(change.key, change.note);
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
