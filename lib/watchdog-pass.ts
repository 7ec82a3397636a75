/**
 * One `secretWatchdog` pass (the timer and `watchdog run` call this):
 *
 *   watch → (under the rotation lease) recover → rotate if due → migrate →
 *   retire → alert → record the run
 *
 * With `dryRun`, every write — to Entra, Nylas, the state store or a sink — is
 * replaced by a line in `plan`; reads still happen, so the plan is real.
 *
 * This file composes the steps; the decisions live in lib/rotation/ (what to
 * rotate, who depends on which key, what may be removed, when to ask users)
 * and lib/watch/, and every incident is built next to the decision it reports.
 */
import type { WatchdogPassPorts } from "./ports.js";
import type { GraphApplication } from "./clients/graph.js";
import { errorMessage } from "./errors.js";
import { AlertCollector } from "./incidents/alert-collector.js";
import { reportQuarantine } from "./incidents/corrupt-state.js";
import type { IncidentManager } from "./incidents/incident-manager.js";
import { scanCredentials, type CredentialReport, type ScanSummary } from "./watch/scan.js";
import { daysLeft, isExpired, needsAttention, thresholdsOf } from "./watch/classify.js";
import { READABLE_AGAIN, STALE_EXPIRY, expiringSignal, unreadableSignal } from "./watch/signals.js";
import { keyStatus } from "./rotation/connector-keys.js";
import { runConnectorStep, type RotationOptions, type RotationSummary } from "./rotation/connector-step.js";
import type { RecoveryReport } from "./rotation/recover.js";
import type { KeyDependents } from "./rotation/migrate.js";
import type { KeyPlan } from "./rotation/migration-plan.js";
import type { EvidenceMode } from "./rotation/evidence.js";
import { blockingProblem, rotationBlockedSignal, rotationUnblocked } from "./rotation/signals.js";
import { writePassRecord, type ConnectorSecretSeen, type PassRecord } from "./rotation/pass-record.js";
import { openGrantIncidentKeys, recheckGrantIncident } from "./grants/recheck-grant-incident.js";

export type { RotationSummary } from "./rotation/connector-step.js";
export { connectorKeys, type ConnectorKey } from "./rotation/connector-keys.js";

export interface PassOptions extends RotationOptions {
  dryRun?: boolean;
}

/** Written as the `secretWatchdog` run record: what the grant passes read of it is PassRecord. */
export interface WatchdogPassResult extends PassRecord {
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  scan: Pick<ScanSummary, "apps" | "credentials" | "counts" | "problems">;
  nextExpiry: { appId: string; keyId: string; endDateTime: string; daysLeft: number | null } | null;
  rotation: RotationSummary;
  recovery: RecoveryReport | null;
  migration: {
    dependents: number;
    byKey: KeyDependents[];
    reauthRequested: number;
    /** Per superseded key: what the evidence (or its absence) decided about asking users. */
    plans?: KeyPlan[];
    /** Whether Entra's sign-in report is used this pass, and why (not). */
    evidence?: { mode: EvidenceMode; reason: string };
    /** Valid Microsoft grants read (null: none needed reading). */
    validGrants?: number | null;
    /** The grant read was complete and consistent: decisions were taken on it. */
    complete?: boolean;
  };
  retired: string[];
  /** What was done (or, in a dry run, would be done), in order. */
  plan: string[];
  /** Anything a secret something depends on is expired or within ALERT_BEFORE_DAYS. */
  attention: boolean;
  exitCode: 0 | 1 | 3;
  /**
   * The connector app's secrets (ids, expiry, and Entra's last sign-in when readable): lets the webhook
   * name an expired secret as a cause, health show which secret is in use, and the next pass confirm a
   * key that this pass's read missed.
   */
  connectorSecrets: ConnectorSecretSeen[];
}

const ALERT_DELIVERY_BUDGET_MS = 30_000;

type Thresholds = ReturnType<typeof thresholdsOf>;

interface Watched {
  summary: ScanSummary;
  connectorApp: GraphApplication | undefined;
  connectorSecrets: ConnectorSecretSeen[];
  /** Watched-app credentials that need attention. */
  attention: CredentialReport[];
  /** Watched apps this pass evaluated. */
  appIds: string[];
}

/** 1. Watch: every credential classified, and what the later steps need of the connector app. */
async function watch(deps: WatchdogPassPorts, thresholds: Thresholds): Promise<Watched> {
  const seen: Omit<Watched, "summary"> = {
    connectorApp: undefined,
    connectorSecrets: [],
    attention: [],
    appIds: [],
  };
  const summary = await scanCredentials(deps, {
    watchAppIds: deps.config.watchAppIds,
    thresholds,
    keepSoonest: 10,
    onConnectorApp: (app) => (seen.connectorApp = app),
    onCredential: (r) => {
      if (r.source === "connector" && r.type === "password")
        seen.connectorSecrets.push({
          keyId: r.keyId,
          endDateTime: r.endDateTime,
          ...(r.lastSignIn !== undefined ? { lastSignIn: r.lastSignIn } : {}),
        });
      if (r.source === "watched" && needsAttention(r.status)) seen.attention.push(r);
      if (r.source === "watched" && seen.appIds.at(-1) !== r.appId) seen.appIds.push(r.appId);
    },
  });
  return { summary, ...seen };
}

function initialResult(
  startedAt: Date,
  dryRun: boolean,
  watched: Watched,
  plan: string[],
): WatchdogPassResult {
  const { summary } = watched;
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    dryRun,
    scan: {
      apps: summary.apps,
      credentials: summary.credentials,
      counts: summary.counts,
      problems: summary.problems,
    },
    nextExpiry: null,
    rotation: {
      decision: "no-connector",
      reason: summary.problems[0]?.message ?? "no connector app",
      connectorKeys: [],
    },
    recovery: null,
    migration: { dependents: 0, byKey: [], reauthRequested: 0 },
    retired: [],
    plan,
    attention: false,
    exitCode: 0,
    connectorSecrets: watched.connectorSecrets,
  };
}

export async function runWatchdogPass(
  deps: WatchdogPassPorts,
  options: PassOptions = {},
): Promise<WatchdogPassResult> {
  const dryRun = options.dryRun === true;
  const { config, clock, logger } = deps;
  const startedAt = clock.now();
  const plan: string[] = [];
  const note = (line: string) => {
    plan.push(line);
    logger.info(`${dryRun ? "[dry run] would: " : ""}${line}`);
  };
  const thresholds = thresholdsOf(config);
  const store = await deps.store();
  const incidents = await deps.incidents();
  const alerts = new AlertCollector(incidents, dryRun, note);

  const watched = await watch(deps, thresholds);
  const { summary, connectorApp } = watched;
  const result = initialResult(startedAt, dryRun, watched, plan);

  // 2. Watched apps (WATCH_APP_IDS): alert only, never rotated.
  for (const r of watched.attention) alerts.raise(expiringSignal(r, "watched"));
  // A watched app that cannot be read is reported on its own and never stops the connector's rotation.
  for (const p of summary.problems)
    if (p.code === "watch.unreadable" && p.appId !== undefined)
      alerts.raise(unreadableSignal({ ...p, appId: p.appId }));
  await alerts.resolveStale(READABLE_AGAIN.kind, READABLE_AGAIN.note, () => true);
  // Apps whose expiry incidents this pass may resolve: those it actually evaluated.
  const evaluated = new Set(watched.appIds);

  if (connectorApp !== undefined && summary.connector !== null) {
    const step = await runConnectorStep(
      { config, clock, logger, store, graph: await deps.graph(), nylas: deps.nylas, incidents },
      {
        app: connectorApp,
        connector: summary.connector,
        signIns: {
          readable: summary.signIns.readable,
          lastSignIn: new Map(summary.signInsByKey),
          ...(summary.signIns.error !== undefined ? { error: summary.signIns.error } : {}),
        },
        dryRun,
        note,
        alerts,
        forceRotate: options.forceRotate,
        adopt: options.adopt,
        afterStep: options.afterStep,
        checkSecret: options.checkSecret,
      },
    );
    result.rotation = step.rotation;
    result.recovery = step.recovery;
    if (step.migration !== undefined) result.migration = step.migration;
    result.retired = step.retired;
    // A pass that did not hold the lease did not judge the connector app: leave its incidents alone.
    if (result.rotation.decision !== "skipped-locked") evaluated.add(connectorApp.appId);
  }

  // A connector the watchdog cannot rotate (no client_id, its app not found): say exactly what is missing.
  const blocked = blockingProblem(summary.problems);
  if (blocked !== undefined) {
    alerts.raise(rotationBlockedSignal(blocked, config.rotation.mode));
  } else if (connectorApp !== undefined) {
    const unblocked = rotationUnblocked();
    alerts.resolve(unblocked.key, unblocked.note);
  }

  // Resolve expiry incidents that no longer hold (a rotated secret, a removed one).
  await alerts.resolveStale(STALE_EXPIRY.kind, STALE_EXPIRY.note, (incident) =>
    evaluated.has(String(incident.details.app_id)),
  );
  await recheckGrantIncidents(deps, incidents, alerts);
  await reportQuarantine(store, alerts);

  result.nextExpiry = nextExpiryOf(result, watched, clock.now());
  result.attention =
    watched.attention.length > 0 ||
    alerts.firingCritical ||
    result.rotation.connectorKeys.some((k) => needsAttention(keyStatus(k, clock.now(), thresholds)));
  result.exitCode = exitCodeOf(result);

  await alerts.flush();
  if (!dryRun) {
    await incidents.deliver({ deadlineMs: ALERT_DELIVERY_BUDGET_MS }).catch((error: unknown) => {
      logger.warn(`alert delivery deferred to the next pass: ${errorMessage(error)}`);
    });
  }
  result.finishedAt = clock.now().toISOString();
  if (!dryRun) await writePassRecord(store, result);
  logger.info(
    `secretWatchdog: rotation ${result.rotation.decision} (${result.rotation.reason}); ${result.migration.dependents} grant(s) on superseded secrets; retired ${result.retired.length}; exit ${result.exitCode}`,
  );
  return result;
}

/**
 * Open grant incidents, asked again of Nylas: a user who signed in again, or a grant deleted, while no
 * notification reached us and before the next sweep. The grant-state decision words it, as for the
 * webhook and the sweep; a failed look-up leaves the incident to the sweep.
 */
async function recheckGrantIncidents(
  deps: WatchdogPassPorts,
  incidents: IncidentManager,
  alerts: AlertCollector,
): Promise<void> {
  for (const key of await openGrantIncidentKeys(incidents)) {
    try {
      const change = await recheckGrantIncident(key, deps.nylas, deps.config.nylas, "pass");
      if (change?.action === "resolve") alerts.resolve(change.key, change.note);
    } catch (error) {
      deps.logger.warn(
        `secretWatchdog: could not re-check ${key}; the next sweep does: ${errorMessage(error)}`,
      );
    }
  }
}

/** The next expiry that matters: what the connector may hold now (after any rotation), and watched apps. */
function nextExpiryOf(
  result: WatchdogPassResult,
  watched: Watched,
  now: Date,
): WatchdogPassResult["nextExpiry"] {
  const appId = watched.connectorApp?.appId ?? "";
  const candidates = [
    ...result.rotation.connectorKeys
      .filter((k) => k.present && k.endDateTime !== null && !isExpired(k.endDateTime, now))
      .map((k) => ({ appId, keyId: k.keyId, endDateTime: k.endDateTime! })),
    ...watched.summary.soonest
      .filter((r) => r.source === "watched" && r.endDateTime !== null && r.status !== "expired")
      .map((r) => ({ appId: r.appId, keyId: r.keyId, endDateTime: r.endDateTime! })),
  ].sort((a, b) => a.endDateTime.localeCompare(b.endDateTime));
  const next = candidates[0];
  return next ? { ...next, daysLeft: daysLeft(next.endDateTime, now) } : null;
}

function exitCodeOf(result: WatchdogPassResult): WatchdogPassResult["exitCode"] {
  if (result.rotation.decision === "failed" || result.rotation.decision === "other-installation") return 3;
  if (result.attention || result.scan.problems.length > 0) return 1;
  return 0;
}
