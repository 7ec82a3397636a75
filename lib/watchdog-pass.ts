/**
 * One `secretWatchdog` pass (the timer and `watchdog run` call this):
 *
 *   watch → (under the rotation lease) recover → rotate if due → migrate →
 *   retire → alert → record the run
 *
 * With `dryRun`, every write — to Entra, Nylas, the state store or a sink — is
 * replaced by a line in `plan`; reads still happen, so the plan is real.
 *
 * The host kills a pass at host.json's functionTimeout, so the work runs under
 * a deadline that much earlier, less a margin for alerts and the record: no
 * wait ends past it, and past it (or when a service keeps throttling) the pass
 * stops at a step boundary, records where, and exits 3 (lib/rotation/pass-stop.ts).
 *
 * This file composes the steps; the decisions live in lib/rotation/ (what to
 * rotate, who depends on which key, what may be removed, when to ask users)
 * and lib/watch/, and every incident is built next to the decision it reports.
 */
import type { WatchdogPassPorts } from "./ports.js";
import { errorMessage } from "./errors.js";
import { AlertCollector } from "./incidents/alert-collector.js";
import { reportQuarantine } from "./incidents/corrupt-state.js";
import type { IncidentManager } from "./incidents/incident-manager.js";
import { needsAttention, thresholdsOf } from "./watch/classify.js";
import { READABLE_AGAIN, STALE_EXPIRY, expiringSignal, unreadableSignal } from "./watch/signals.js";
import { keyStatus } from "./rotation/connector-keys.js";
import { runConnectorStep, type RotationOptions } from "./rotation/connector-step.js";
import { blockingProblem, rotationBlockedSignal, rotationUnblocked } from "./rotation/signals.js";
import { writePassRecord, writePassStop, type PassStop } from "./rotation/pass-record.js";
import { PassStopped, passStep } from "./rotation/pass-stop.js";
import { PassDeadline } from "./clients/retry.js";
import { PASS_BUDGET_MS } from "./config/function-timeout.js";
import { openGrantIncidentKeys, recheckGrantIncident } from "./grants/recheck-grant-incident.js";
import {
  NOTHING_WATCHED,
  exitCodeOf,
  initialResult,
  nextExpiryOf,
  watch,
  type WatchdogPassResult,
} from "./watchdog-pass/result.js";

export type { RotationSummary } from "./rotation/connector-step.js";
export { connectorKeys, type ConnectorKey } from "./rotation/connector-keys.js";
export type { WatchdogPassResult } from "./watchdog-pass/result.js";

export interface PassOptions extends RotationOptions {
  dryRun?: boolean;
}

const ALERT_DELIVERY_BUDGET_MS = 30_000;

export async function runWatchdogPass(
  deps: WatchdogPassPorts,
  options: PassOptions = {},
): Promise<WatchdogPassResult> {
  const dryRun = options.dryRun === true;
  const { clock, logger } = deps;
  const startedAt = clock.now();
  const plan: string[] = [];
  const note = (line: string) => {
    plan.push(line);
    logger.info(`${dryRun ? "[dry run] would: " : ""}${line}`);
  };
  const store = await deps.store();
  const incidents = await deps.incidents();
  const alerts = new AlertCollector(incidents, dryRun, note);
  const deadline = new PassDeadline(startedAt.getTime() + PASS_BUDGET_MS, () => clock.now().getTime());
  const pass: Pass = { deps, options, dryRun, startedAt, plan, note, incidents, alerts, deadline };

  // Alerts and the record come after the deadline, in the margin kept for them: their waits are not refused.
  let result: WatchdogPassResult;
  let stopped: PassStop | undefined;
  try {
    result = await deadline.run(() => work(pass));
  } catch (error) {
    if (!(error instanceof PassStopped)) throw error;
    stopped = error.stop;
    result = { ...(pass.result ?? initialResult(startedAt, dryRun, NOTHING_WATCHED, plan)), stopped };
    result.exitCode = 3;
    // Stopped before the connector step reported: what it would have decided is unknown.
    if (stopped.step === "watch" || stopped.step === "connector")
      result.rotation = { decision: "stopped", reason: stopped.reason, connectorKeys: [] };
    logger.warn(`secretWatchdog: ${stopped.reason}`);
  }

  await alerts.flush();
  if (!dryRun) {
    await incidents.deliver({ deadlineMs: ALERT_DELIVERY_BUDGET_MS }).catch((error: unknown) => {
      logger.warn(`alert delivery deferred to the next pass: ${errorMessage(error)}`);
    });
  }
  result.finishedAt = clock.now().toISOString();
  if (!dryRun && stopped !== undefined) await writePassStop(store, result.startedAt, stopped);
  else if (!dryRun) await writePassRecord(store, result);
  logger.info(
    `secretWatchdog: rotation ${result.rotation.decision} (${result.rotation.reason}); ${result.migration.dependents} grant(s) on superseded secrets; retired ${result.retired.length}; exit ${result.exitCode}`,
  );
  return result;
}

interface Pass {
  deps: WatchdogPassPorts;
  options: PassOptions;
  dryRun: boolean;
  startedAt: Date;
  plan: string[];
  note: (line: string) => void;
  incidents: IncidentManager;
  alerts: AlertCollector;
  deadline: PassDeadline;
  /** Set once the watch step has read what the result reports: a stop after it keeps what was learnt. */
  result?: WatchdogPassResult;
}

/** The pass's steps, under its deadline: each boundary is where it may stop. */
async function work(pass: Pass): Promise<WatchdogPassResult> {
  const { deps, options, dryRun, note, incidents, alerts, deadline } = pass;
  const { config, clock } = deps;
  const step = <T>(name: string, run: () => Promise<T>) => passStep(name, deadline, () => clock.now(), run);
  const thresholds = thresholdsOf(config);
  const store = await deps.store();

  const watched = await step("watch", () => watch(deps, thresholds));
  const { summary, connectorApp } = watched;
  const result = initialResult(pass.startedAt, dryRun, watched, pass.plan);
  pass.result = result;

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
    const connector = summary.connector;
    const connectorStep = await step("connector", async () =>
      runConnectorStep(
        {
          config,
          clock,
          logger: deps.logger,
          store,
          graph: await deps.graph(),
          nylas: deps.nylas,
          incidents,
        },
        {
          app: connectorApp,
          connector,
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
      ),
    );
    result.rotation = connectorStep.rotation;
    result.recovery = connectorStep.recovery;
    if (connectorStep.migration !== undefined) result.migration = connectorStep.migration;
    result.retired = connectorStep.retired;
    if (connectorStep.stopped !== undefined) throw new PassStopped(connectorStep.stopped);
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
  await step("grant re-check", () => recheckGrantIncidents(deps, incidents, alerts));
  await reportQuarantine(store, alerts);

  result.nextExpiry = nextExpiryOf(result, watched, clock.now());
  result.attention =
    watched.attention.length > 0 ||
    alerts.firingCritical ||
    result.rotation.connectorKeys.some((k) => needsAttention(keyStatus(k, clock.now(), thresholds)));
  result.exitCode = exitCodeOf(result);
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
