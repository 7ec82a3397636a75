/**
 * The migration and retirement step of a pass: read every valid Microsoft
 * grant completely and consistently, judge Entra's sign-in evidence, then act
 * on the decisions of migration-plan.ts (who is asked to sign in again) and
 * retire.ts (which superseded secret may go). Decisions are made there; this
 * file reads, then does what they say.
 */
import type { GraphApplication } from "../clients/graph.js";
import { InconsistentReadError } from "../clients/nylas.js";
import type { IncidentManager } from "../incidents/incident-store.js";
import type { Signal } from "../incidents/incident.js";
import { judgeEvidence, type Evidence, type EvidenceMode, type SignInReport } from "./evidence.js";
import {
  MigrationTracker,
  dependencyWindows,
  migrationIncidentKey,
  migrationSignal,
  reauthAnnouncement,
  type DependentGrant,
  type KeyDependents,
} from "./migrate.js";
import { planMigration, type KeyPlan } from "./migration-plan.js";
import { executeRetirement, planRetirement, type RetirementAction } from "./retire.js";
import { loadKeyRecords, saveKeyRecord, type KeyRecord } from "./records.js";
import type { RotationPorts } from "./ports.js";

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

const READ_ATTEMPTS = 3;

interface GrantRead {
  tracker: MigrationTracker;
  dependents: DependentGrant[];
  validGrants: number;
  complete: boolean;
}

/** Reads every valid Microsoft grant, again if the list changed while it was read. */
async function readDependents(records: readonly KeyRecord[], ports: MigrationPorts): Promise<GrantRead> {
  const margin = ports.config.rotation.switchMarginMinutes * 60;
  let read: GrantRead | undefined;
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    read = {
      tracker: new MigrationTracker(dependencyWindows(records, margin), records),
      dependents: [],
      validGrants: 0,
      complete: false,
    };
    try {
      for await (const page of ports.nylas.listGrantPages({
        provider: "microsoft",
        grantStatus: "valid",
        consistent: true,
      })) {
        for (const grant of page) {
          read.validGrants++;
          const dep = read.tracker.consider(grant);
          if (dep !== undefined) read.dependents.push(dep);
        }
      }
      read.complete = true;
      return read;
    } catch (error) {
      if (!(error instanceof InconsistentReadError)) throw error;
      ports.logger.warn(`migration: ${error.message} Reading again (${attempt}/${READ_ATTEMPTS}).`);
    }
  }
  return read!;
}

export async function runMigrationStep(
  app: GraphApplication,
  report: SignInReport,
  ports: MigrationPorts,
  options: {
    dryRun: boolean;
    note: (line: string) => void;
    alerts: AlertPort;
    /** Valid grants the previous pass read: a read of none after some is contradictory. */
    previousValidGrants: number | null;
    /** This pass's Graph read contradicted the records (keys missing): decide nothing irreversible. */
    appReadContradicts: boolean;
  },
): Promise<MigrationOutcome> {
  const { config, clock, store, logger } = ports;
  const now = clock.now();
  const records = (await loadKeyRecords(store, app.appId)).map((i) => i.value);
  const outcome: MigrationOutcome = {
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
  const key = migrationIncidentKey(app.appId);
  if (!records.some((r) => r.state === "superseded")) {
    const evidence = judgeEvidence(report, records, undefined, now);
    outcome.evidence = { mode: evidence.mode, reason: evidence.reason };
    options.alerts.resolve(key, "No superseded secret is depended on.");
    return outcome;
  }

  const read = await readDependents(records, ports);
  let complete = read.complete && !options.appReadContradicts;
  if (complete && read.validGrants === 0 && (options.previousValidGrants ?? 0) > 0) {
    // Every grant gone at once is more likely a bad answer than the truth: a later pass confirms.
    logger.warn(
      `migration: Nylas listed no valid grant where the previous pass read ${options.previousValidGrants}; nothing is decided on this read.`,
    );
    complete = false;
  }
  const evidence: Evidence = judgeEvidence(report, records, complete ? read.validGrants : undefined, now);
  const plans = planMigration(read.tracker.byKey(), records, evidence, now, config.rotation);
  const requesting = new Set(plans.filter((p) => p.requestReauth).map((p) => p.keyId));
  const pendingKeys = new Set(
    plans.filter((p) => p.inferred > 0 && p.verdict !== "moved").map((p) => p.keyId),
  );
  Object.assign(outcome, {
    byKey: read.tracker.byKey(),
    plans,
    evidence: { mode: evidence.mode, reason: evidence.reason },
    validGrants: read.validGrants,
    complete,
  });
  if (evidence.mode === "blind") logger.warn(`migration: ${evidence.reason}`);

  // Re-authentication requests: once per (rotation, grant), only for keys the plan says to ask for.
  for (const dep of read.dependents) {
    if (dep.keyIds.some((k) => pendingKeys.has(k))) outcome.dependents++;
    const asked = read.tracker.rotationIdsFor(dep, requesting);
    for (const rotationId of asked) {
      const requestKey = `reauth:${rotationId}:${dep.grant.id}`;
      if ((await store.get("grants", requestKey)) !== undefined) continue;
      outcome.reauthRequested++;
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
  if (outcome.reauthRequested > 0)
    options.note(`request re-authentication of ${outcome.reauthRequested} grant(s) (grant.reauth_requested)`);
  for (const p of plans.filter((p) => p.verdict === "waiting" && p.inferred > 0))
    options.note(
      `wait before asking ${p.inferred} user(s) on secret ${p.keyId} to sign in again: ${p.reason}`,
    );

  const pending = read.tracker.byKey().filter((k) => pendingKeys.has(k.keyId));
  const moved = plans.filter((p) => p.verdict === "moved");
  if (outcome.dependents > 0) {
    const pendingPlans = plans.filter((p) => pendingKeys.has(p.keyId));
    const waitingUntil = pendingPlans.every((p) => p.verdict === "waiting")
      ? (pendingPlans
          .map((p) => p.deferredUntil)
          .filter((d): d is string => d !== null)
          .sort()[0] ?? null)
      : null;
    options.alerts.raise(migrationSignal(app.appId, pending, outcome.dependents, now, config, waitingUntil));
  } else if (moved.length > 0) {
    const n = moved.reduce((sum, p) => sum + p.inferred, 0);
    options.alerts.resolve(
      key,
      `Migration complete: Entra reports no sign-in with the old secret (${moved.map((p) => p.keyId).join(", ")}) since the switch, while ${n} valid grant(s) were said to depend on it: Nylas moved them to the new secret. Nobody needs to sign in again.`,
    );
  } else if (complete) {
    options.alerts.resolve(key, "Migration complete: no valid grant depends on a superseded secret.");
  }

  // What later passes need: the first complete pass that found no dependents (two are needed without evidence).
  if (complete && !options.dryRun) {
    for (const r of records.filter((r) => r.state === "superseded")) {
      const none = read.tracker.countFor(r.keyId) === 0;
      if (none && r.noDependentsSince === undefined)
        await saveKeyRecord(store, { ...r, noDependentsSince: now.toISOString() });
      else if (!none && r.noDependentsSince !== undefined) {
        const { noDependentsSince: _cleared, ...rest } = r;
        await saveKeyRecord(store, rest);
      }
    }
  }

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
