/**
 * One `secretWatchdog` pass (the timer and `watchdog run` call this):
 *
 *   watch → (under the rotation lease) recover → rotate if due → migrate →
 *   retire → alert → record the run
 *
 * With `dryRun`, every write — to Entra, Nylas, the state store or a sink — is
 * replaced by a line in `plan`; reads still happen, so the plan is real.
 */
import type { Deps } from "./deps.js";
import type { GraphApplication } from "./clients/graph.js";
import type { SecretCheckInput, SecretCheck } from "./clients/entra-token.js";
import type { IncidentManager } from "./incidents/incident-store.js";
import type { Signal } from "./incidents/incident.js";
import { errorMessage } from "./errors.js";
import { acquireLease, type Lease } from "./state/lease.js";
import { scanCredentials, type CredentialReport, type ScanSummary } from "./watch/scan.js";
import { classify, daysLeft, isExpired, needsAttention } from "./watch/classify.js";
import { FOREIGN, connectorCandidates, loadKeyRecords, type KeyRecord } from "./rotation/records.js";
import {
  earliestForeignExpiry,
  rotateConnectorSecret,
  type RotationOutcome,
  type RotationStep,
} from "./rotation/rotate.js";
import { recoverRotation, type RecoveryReport } from "./rotation/recover.js";
import { loadInstallation, recordAdoption } from "./rotation/installation.js";
import { describeOtherInstallation, judgeOwnership } from "./rotation/ownership.js";
import type { KeyDependents } from "./rotation/migrate.js";
import type { KeyPlan } from "./rotation/migration-plan.js";
import { runMigrationStep } from "./rotation/migration-step.js";
import { readSignInReport, type EvidenceMode, type SignInReport } from "./rotation/evidence.js";
import { settleAmbiguousInstall } from "./rotation/settle.js";
import { randomUUID } from "node:crypto";

export interface PassOptions {
  dryRun?: boolean;
  forceRotate?: boolean;
  /** Take over a connector another installation manages (`watchdog run --adopt`). */
  adopt?: boolean;
  /** Test seam: a crash after a rotation step. */
  afterStep?: (step: RotationStep) => Promise<void> | void;
  /** Test seam: how a secret is proven (default: a real token request). */
  checkSecret?: (input: SecretCheckInput) => Promise<SecretCheck>;
}

/** What the connector is believed to hold. */
export interface ConnectorKey {
  keyId: string;
  endDateTime: string | null;
  /** Recorded by the watchdog (installed), or assumed at adoption (foreign). */
  origin: "installed" | "ambiguous" | "adopted";
  /** False when the key is no longer on the app registration. */
  present: boolean;
}

export interface RotationSummary {
  decision:
    | "not-due"
    | "rotated"
    | "failed"
    | "skipped-locked"
    | "off"
    | "no-connector"
    | "would-rotate"
    | "other-installation";
  reason: string;
  outcome?: RotationOutcome;
  /** The key(s) the connector may hold after this pass; the earliest expiry governs. */
  connectorKeys: ConnectorKey[];
}

export interface WatchdogPassResult {
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
  connectorSecrets: { keyId: string; endDateTime: string | null; lastSignIn?: string | null }[];
}

const ALERT_DELIVERY_BUDGET_MS = 30_000;

/** What the connector holds, as far as records (or, without records, the worst-case assumption) tell. */
export function connectorKeys(
  app: GraphApplication,
  records: readonly KeyRecord[],
  now: Date,
): ConnectorKey[] {
  const candidates = connectorCandidates(records);
  if (candidates.length > 0) {
    return candidates.map((r) => ({
      keyId: r.keyId,
      endDateTime: r.keyId === FOREIGN ? earliestForeignExpiry(app, records, now) : r.endDateTime,
      origin: r.state === "installed" ? (r.keyId === FOREIGN ? "adopted" : "installed") : "ambiguous",
      // A read that misses a recorded key proves nothing: it is gone once recovery confirmed it with a
      // second read (the record is then "removed", no longer a candidate). Until then it is present.
      present: true,
    }));
  }
  // Adoption: Nylas never returns the connector's secret, so assume the worst — the earliest-expiring
  // unexpired secret on the app is the one in the connector.
  const ours = new Set(records.map((r) => r.keyId));
  const live = app.passwordCredentials
    .filter((p) => !ours.has(p.keyId) && !isExpired(p.endDateTime, now))
    .sort((a, b) => (a.endDateTime ?? "9").localeCompare(b.endDateTime ?? "9"));
  const assumed = live[0];
  if (assumed === undefined)
    return [{ keyId: FOREIGN, endDateTime: null, origin: "adopted", present: false }];
  return [{ keyId: assumed.keyId, endDateTime: assumed.endDateTime, origin: "adopted", present: true }];
}

/** The connector's governing expiry: the earliest of what it may hold; a vanished key counts as expired now. */
function governingEnd(keys: readonly ConnectorKey[], now: Date): string {
  const ends = keys
    .map((k) => (k.present && k.endDateTime !== null ? k.endDateTime : now.toISOString()))
    .sort();
  return ends[0] ?? now.toISOString();
}

export async function runWatchdogPass(deps: Deps, options: PassOptions = {}): Promise<WatchdogPassResult> {
  const dryRun = options.dryRun === true;
  const { config, clock, logger } = deps;
  const startedAt = clock.now();
  const plan: string[] = [];
  const note = (line: string) => {
    plan.push(line);
    logger.info(`${dryRun ? "[dry run] would: " : ""}${line}`);
  };
  const thresholds = {
    alertBeforeDays: config.alerts.alertBeforeDays,
    rotateBeforeDays: config.rotation.rotateBeforeDays,
  };
  const store = await deps.state();
  const incidents = await deps.alerts();
  const alerts = new AlertCollector(incidents, dryRun, note);

  // 1. Watch.
  let connectorApp: GraphApplication | undefined;
  const connectorSecrets: WatchdogPassResult["connectorSecrets"] = [];
  const watched: CredentialReport[] = [];
  const watchedAppIds: string[] = [];
  const summary = await scanCredentials(deps, {
    watchAppIds: config.watchAppIds,
    thresholds,
    keepSoonest: 10,
    onConnectorApp: (app) => (connectorApp = app),
    onCredential: (r) => {
      if (r.source === "connector" && r.type === "password")
        connectorSecrets.push({
          keyId: r.keyId,
          endDateTime: r.endDateTime,
          ...(r.lastSignIn !== undefined ? { lastSignIn: r.lastSignIn } : {}),
        });
      if (r.source === "watched" && needsAttention(r.status)) watched.push(r);
      if (r.source === "watched" && watchedAppIds.at(-1) !== r.appId) watchedAppIds.push(r.appId);
    },
  });

  const result: WatchdogPassResult = {
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
    connectorSecrets,
  };

  // 2. Watched apps (WATCH_APP_IDS): alert only, never rotated.
  for (const r of watched) alerts.raise(expiringSignal(r, "watched"));
  // Apps whose expiry incidents this pass may resolve: those it actually evaluated.
  const evaluated = new Set(watchedAppIds);

  if (connectorApp !== undefined && summary.connector !== null) {
    await rotationPart(
      deps,
      options,
      connectorApp,
      summary.connector,
      store,
      incidents,
      result,
      alerts,
      note,
    );
    // A pass that did not hold the lease did not judge the connector app: leave its incidents alone.
    if (result.rotation.decision !== "skipped-locked") evaluated.add(connectorApp.appId);
  }

  // A connector the watchdog cannot rotate (no client_id, its app not found): say exactly what is missing.
  const blocked = summary.problems.find((p) => p.code.startsWith("connector."));
  if (blocked !== undefined) {
    alerts.raise({
      key: "rotation.blocked:connector",
      kind: "rotation.blocked",
      severity: "warning",
      summary: `The Nylas connector's secret cannot be rotated: ${blocked.message}`,
      details: { code: blocked.code, rotation: config.rotation.mode },
      remediation: [blocked.fix],
      links: [],
    });
  } else if (connectorApp !== undefined) {
    alerts.resolve(
      "rotation.blocked:connector",
      "The connector and its app registration are readable again.",
    );
  }

  // Resolve expiry incidents that no longer hold (a rotated secret, a removed one).
  await alerts.resolveStale(
    "secret.expiring",
    "The secret was rotated, removed, or is no longer close to expiry.",
    (incident) => evaluated.has(String(incident.details.app_id)),
  );

  // The next expiry that matters: what the connector may hold now (after any rotation), and watched apps.
  const candidates = [
    ...result.rotation.connectorKeys
      .filter((k) => k.present && k.endDateTime !== null && !isExpired(k.endDateTime, clock.now()))
      .map((k) => ({ appId: connectorApp?.appId ?? "", keyId: k.keyId, endDateTime: k.endDateTime! })),
    ...summary.soonest
      .filter((r) => r.source === "watched" && r.endDateTime !== null && r.status !== "expired")
      .map((r) => ({ appId: r.appId, keyId: r.keyId, endDateTime: r.endDateTime! })),
  ].sort((a, b) => a.endDateTime.localeCompare(b.endDateTime));
  const next = candidates[0];
  result.nextExpiry = next ? { ...next, daysLeft: daysLeft(next.endDateTime, clock.now()) } : null;

  result.attention =
    watched.length > 0 ||
    alerts.firingCritical ||
    result.rotation.connectorKeys.some((k) =>
      needsAttention(classify(k.present ? k.endDateTime : clock.now(), clock.now(), thresholds)),
    );
  result.exitCode =
    result.rotation.decision === "failed" || result.rotation.decision === "other-installation"
      ? 3
      : result.attention
        ? 1
        : 0;
  if (summary.problems.length > 0 && result.exitCode === 0) result.exitCode = 1;

  await alerts.flush();
  if (!dryRun) {
    await incidents.deliver({ deadlineMs: ALERT_DELIVERY_BUDGET_MS }).catch((error: unknown) => {
      logger.warn(`alert delivery deferred to the next pass: ${errorMessage(error)}`);
    });
  }
  result.finishedAt = clock.now().toISOString();
  if (!dryRun) await store.put("runs", "secretWatchdog", result);
  logger.info(
    `secretWatchdog: rotation ${result.rotation.decision} (${result.rotation.reason}); ${result.migration.dependents} grant(s) on superseded secrets; retired ${result.retired.length}; exit ${result.exitCode}`,
  );
  return result;
}

async function rotationPart(
  deps: Deps,
  options: PassOptions,
  initialApp: GraphApplication,
  connector: NonNullable<ScanSummary["connector"]>,
  store: Awaited<ReturnType<Deps["state"]>>,
  incidents: IncidentManager,
  result: WatchdogPassResult,
  alerts: AlertCollector,
  note: (line: string) => void,
): Promise<void> {
  const { config, clock, logger } = deps;
  const dryRun = result.dryRun;
  const graph = await deps.graph();
  const appId = initialApp.appId;
  const thresholds = {
    alertBeforeDays: config.alerts.alertBeforeDays,
    rotateBeforeDays: config.rotation.rotateBeforeDays,
  };

  let lease: Lease | undefined;
  if (!dryRun) {
    lease = await acquireLease(store, `rotation:${appId}`, {
      holder: randomUUID(),
      ttlMs: (config.rotation.propagationTimeoutSeconds + 600) * 1000,
      clock,
    });
    if (lease === undefined) {
      result.rotation = {
        decision: "skipped-locked",
        reason: "another pass holds the rotation lease; it rotates, migrates and retires this time",
        connectorKeys: [],
      };
      logger.info(`secretWatchdog: ${result.rotation.reason}`);
      return;
    }
  }
  try {
    let app = initialApp;
    const refresh = async () => {
      app = (await graph.getApplicationByAppId(appId)) ?? app;
    };

    // Who manages this connector? A key another installation made may be in it: change nothing unless told.
    let installation = (await loadInstallation(store, clock, { create: !dryRun })).record;
    const ownership = judgeOwnership(
      app,
      (await loadKeyRecords(store, appId)).map((i) => i.value),
      installation,
    );
    if (ownership.others.length > 0 && options.adopt !== true) {
      const reason = describeOtherInstallation(ownership, store.description);
      result.rotation = { decision: "other-installation", reason, connectorKeys: [] };
      alerts.raise({
        key: `installation.conflict:${appId}`,
        kind: "installation.conflict",
        severity: "warning",
        summary: `Another secret-watchdog installation manages the Nylas connector's app registration; this one (${installation.id}) changed nothing`,
        details: {
          app_id: appId,
          this_installation: installation.id,
          other_installations: ownership.installations
            .map((i) => `${i.id} (last rotated ${i.lastRotatedAt})`)
            .join(", "),
          their_keys: ownership.others.map((k) => k.keyId).join(", "),
        },
        remediation: [
          "Point this runner at the same state as the installation that manages the connector (AzureWebJobsStorage, or WATCHDOG_STATE_DIR), or stop it.",
          "Or take over with `watchdog run --adopt`: the other installation's secrets are then never removed by this one, and the other installation stops changing anything.",
        ],
        links: [],
      });
      logger.warn(`secretWatchdog: ${reason}`);
      return;
    }
    if (ownership.others.length > 0) {
      note(
        `adopt the connector from ${ownership.installations.map((i) => i.id).join(", ")}: their secret(s) ${ownership.others.map((k) => k.keyId).join(", ")} are kept and never removed by this installation`,
      );
      if (!dryRun)
        installation = await recordAdoption(store, installation, {
          at: clock.now().toISOString(),
          keyIds: ownership.others.map((k) => k.keyId),
          from: ownership.installations.map((i) => i.id),
        });
    }
    if (!dryRun)
      alerts.resolve(
        `installation.conflict:${appId}`,
        `Installation ${installation.id} manages the connector.`,
      );

    // Recover from an interrupted run first: it may change what is on the app.
    const previous = (await store.get<WatchdogPassResult>("runs", "secretWatchdog"))?.value;
    result.recovery = await recoverRotation(app, {
      store,
      graph,
      clock,
      logger,
      dryRun,
      installationId: installation.id,
      previousRead:
        previous?.connectorSecrets === undefined
          ? undefined
          : { at: previous.startedAt, keyIds: previous.connectorSecrets.map((k) => k.keyId) },
    });
    for (const k of result.recovery.removedOrphans)
      note(`remove orphaned watchdog secret ${k} (never sent to Nylas)`);
    for (const k of result.recovery.markedAmbiguous)
      note(`keep secret ${k}: its connector update was interrupted (ambiguous)`);
    if (result.recovery.removedOrphans.length > 0 && !dryRun) await refresh();

    // Entra's sign-in evidence, read once: it settles an unconfirmed install, and the migration uses it.
    const report: SignInReport = await readSignInReport(graph, appId);
    const settled = await settleAmbiguousInstall(
      (await loadKeyRecords(store, appId)).map((i) => i.value),
      report,
      { store, clock, logger, dryRun },
    );
    if (settled !== undefined) note(settled);

    let records = (await loadKeyRecords(store, appId)).map((i) => i.value);
    let keys = connectorKeys(app, records, clock.now());
    const end = governingEnd(keys, clock.now());
    const status = classify(end, clock.now(), thresholds);
    const left = daysLeft(end, clock.now());
    const vanished = keys.some((k) => !k.present);
    const due = options.forceRotate === true || vanished || status !== "ok";
    const why = options.forceRotate
      ? "--force-rotate"
      : vanished
        ? "the connector's secret is no longer on the app registration"
        : status === "expired"
          ? "the connector's secret has expired"
          : `the connector's secret expires in ${left} day(s) (ROTATE_BEFORE_DAYS ${config.rotation.rotateBeforeDays})`;

    if (config.rotation.mode === "off") {
      result.rotation = {
        decision: "off",
        reason: `ROTATION=off; ${due ? why : "not due"}`,
        connectorKeys: keys,
      };
    } else if (!due) {
      result.rotation = {
        decision: "not-due",
        reason: `the connector's secret has ${left} day(s) left`,
        connectorKeys: keys,
      };
    } else if (dryRun) {
      note(
        `rotate the connector's secret: ${why}; create a ${config.rotation.secretLifetimeDays}-day secret, prove it with Entra, PATCH the Nylas connector`,
      );
      result.rotation = { decision: "would-rotate", reason: why, connectorKeys: keys };
    } else {
      note(`rotate the connector's secret: ${why}`);
      const { checkClientSecret } = await import("./clients/entra-token.js");
      let outcome: RotationOutcome;
      try {
        outcome = await rotateConnectorSecret(app, connector, records, {
          config,
          clock,
          logger,
          store,
          graph,
          nylas: deps.nylas,
          checkSecret: options.checkSecret ?? checkClientSecret,
          installationId: installation.id,
          ...(options.afterStep ? { afterStep: options.afterStep } : {}),
        });
      } catch (error) {
        outcome = {
          status: "failed",
          rotationId: "(interrupted)",
          reason: errorMessage(error),
          warnings: [],
        };
      }
      await refresh();
      records = (await loadKeyRecords(store, appId)).map((i) => i.value);
      keys = connectorKeys(app, records, clock.now());
      result.rotation = {
        decision: outcome.status === "rotated" ? "rotated" : "failed",
        reason: outcome.status === "rotated" ? `rotated: ${why}` : outcome.reason,
        outcome,
        connectorKeys: keys,
      };
      if (outcome.status === "rotated") {
        alerts.resolve(`rotation.failed:${appId}`, `Rotation ${outcome.rotationId} succeeded.`);
        alerts.announce({
          event: "rotation.succeeded",
          idempotencyKey: `rotation:${outcome.rotationId}`,
          severity: "info",
          summary: `Rotated the Nylas connector's client secret: new secret ${outcome.keyId} (${outcome.lifetimeDays} days)`,
          details: {
            app_id: appId,
            rotation_id: outcome.rotationId,
            new_key_id: outcome.keyId,
            ends: outcome.endDateTime,
            superseded: outcome.superseded.join(", ") || null,
            propagation_seconds: Math.round(outcome.propagationMs / 1000),
            warnings: outcome.warnings.join(" ") || null,
          },
        });
      } else {
        const criticalNow = classify(governingEnd(keys, clock.now()), clock.now(), thresholds);
        alerts.raise({
          key: `rotation.failed:${appId}`,
          kind: "rotation.failed",
          severity: criticalNow === "expired" || criticalNow === "critical" ? "critical" : "warning",
          summary: `Rotating the Nylas connector's client secret failed: ${outcome.reason}`.slice(0, 300),
          details: {
            app_id: appId,
            rotation_id: outcome.rotationId,
            reason: outcome.reason,
            ambiguous: outcome.ambiguous === true,
            connector_secret_ends: governingEnd(keys, clock.now()),
          },
          remediation: [
            ...(outcome.instructions ? [outcome.instructions] : []),
            "The connector keeps its current secret; the next pass (WATCHDOG_SCHEDULE) tries again. Run `watchdog run` to retry now, `watchdog doctor` to check the setup.",
          ],
          links: [],
        });
      }
    }

    // The connector's own secret close to expiry and not fixed by rotation.
    for (const k of keys) {
      const kStatus = classify(k.present ? k.endDateTime : clock.now(), clock.now(), thresholds);
      if (needsAttention(kStatus)) {
        alerts.raise({
          key: `secret.expiring:${appId}:${k.keyId}`,
          kind: "secret.expiring",
          severity: "critical",
          summary: k.present
            ? `The Nylas connector's client secret ${k.keyId === FOREIGN ? "" : `${k.keyId} `}${kStatus === "expired" ? "has expired" : `expires in ${daysLeft(k.endDateTime, clock.now())} day(s)`}: new Microsoft sign-ins fail when it does`
            : `The Nylas connector's client secret ${k.keyId} was deleted from the app registration: new Microsoft sign-ins fail (AADSTS7000215)`,
          details: { app_id: appId, key_id: k.keyId, ends: k.endDateTime, rotation: config.rotation.mode },
          remediation: [
            config.rotation.mode === "off"
              ? "ROTATION=off: create a new client secret, put its value (not its ID) into the Nylas Microsoft connector, or set ROTATION=auto and run `watchdog run`."
              : "Rotation did not fix it: see the rotation.failed incident, run `watchdog doctor`, then `watchdog run --force-rotate`.",
          ],
          links: [],
        });
      }
    }

    // 3. Migration and 4. retirement: who still depends on superseded secrets, who is asked, what may go.
    const migration = await runMigrationStep(
      app,
      report,
      { config, clock, logger, store, graph, nylas: deps.nylas, incidents },
      {
        dryRun,
        note,
        alerts,
        previousValidGrants: previous?.migration?.validGrants ?? null,
        appReadContradicts: (result.recovery?.unconfirmedMissing.length ?? 0) > 0,
      },
    );
    result.migration = {
      dependents: migration.dependents,
      byKey: migration.byKey,
      reauthRequested: migration.reauthRequested,
      plans: migration.plans,
      evidence: migration.evidence,
      validGrants: migration.validGrants,
      complete: migration.complete,
    };
    result.retired = migration.retired;
    result.rotation.connectorKeys = keys;
  } finally {
    await lease?.release();
  }
}

function expiringSignal(r: CredentialReport, role: "watched"): Signal {
  const what = r.type === "password" ? "client secret" : "certificate";
  return {
    key: `secret.expiring:${r.appId}:${r.keyId}`,
    kind: "secret.expiring",
    severity: "critical",
    summary: `${r.appDisplayName ?? r.appId}: ${what} ${r.keyId.slice(0, 8)} ${r.status === "expired" ? "has expired" : `expires in ${r.daysLeft} day(s)`}`,
    details: {
      app_id: r.appId,
      key_id: r.keyId,
      role,
      type: r.type,
      ends: r.endDateTime,
      days_left: r.daysLeft,
    },
    remediation: [
      `Create a new ${what} for app ${r.appId}, move whatever uses this one to it, then delete the old one (WATCH_APP_IDS apps are watched, never rotated).`,
    ],
    links: [],
  };
}

/**
 * Gathers what a pass decides about incidents, applies it (or, in a dry run,
 * lists it), and resolves incidents of a kind that this pass no longer raised.
 */
class AlertCollector {
  readonly #raised = new Map<string, Signal>();
  readonly #resolved = new Map<string, string>();
  readonly #announced: Parameters<IncidentManager["announce"]>[0][] = [];
  firingCritical = false;

  constructor(
    private readonly incidents: IncidentManager,
    private readonly dryRun: boolean,
    private readonly note: (line: string) => void,
  ) {}

  raise(signal: Signal): void {
    this.#raised.set(signal.key, signal);
    this.#resolved.delete(signal.key);
    if (signal.severity === "critical") this.firingCritical = true;
  }

  resolve(key: string, note: string): void {
    if (!this.#raised.has(key)) this.#resolved.set(key, note);
  }

  announce(a: Parameters<IncidentManager["announce"]>[0]): void {
    this.#announced.push(a);
  }

  async resolveStale(
    kind: string,
    note: string,
    applies: (incident: { details: Record<string, unknown> }) => boolean,
  ): Promise<void> {
    for await (const incident of this.incidents.open()) {
      if (incident.kind === kind && !this.#raised.has(incident.key) && applies(incident))
        this.resolve(incident.key, note);
    }
  }

  async flush(): Promise<void> {
    for (const signal of this.#raised.values()) {
      if (this.dryRun) {
        const existing = await this.incidents.get(signal.key);
        if (existing?.status !== "firing")
          this.note(`raise ${signal.severity} incident ${signal.key}: ${signal.summary}`);
      } else await this.incidents.raise(signal);
    }
    for (const [key, note] of this.#resolved) {
      const existing = await this.incidents.get(key);
      if (existing?.status !== "firing") continue;
      if (this.dryRun) this.note(`resolve incident ${key}: ${note}`);
      else await this.incidents.resolve(key, note);
    }
    for (const a of this.#announced) {
      if (this.dryRun) this.note(`announce ${a.event}: ${a.summary}`);
      else await this.incidents.announce(a);
    }
  }
}
