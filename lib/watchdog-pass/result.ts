/**
 * The watchdog pass's result (lib/watchdog-pass.ts): its shape, the watch step
 * that fills it first, and how its end is judged. Written as the pass's run
 * record, and printed by `watchdog run`.
 */
import type { WatchdogPassPorts } from "../ports.js";
import type { GraphApplication } from "../clients/graph.js";
import { scanCredentials, type CredentialReport, type ScanSummary } from "../watch/scan.js";
import { daysLeft, isExpired, needsAttention, thresholdsOf } from "../watch/classify.js";
import type { RotationSummary } from "../rotation/connector-step.js";
import type { RecoveryReport } from "../rotation/recover.js";
import type { KeyDependents } from "../rotation/migrate.js";
import type { KeyPlan } from "../rotation/migration-plan.js";
import type { EvidenceMode } from "../rotation/evidence.js";
import type { ConnectorSecretSeen, PassRecord } from "../rotation/pass-record.js";

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
  /** 3 as well when the pass stopped early (`stopped` says where and why). */
  exitCode: 0 | 1 | 3;
  /**
   * The connector app's secrets (ids, expiry, and Entra's last sign-in when readable): lets the webhook
   * name an expired secret as a cause, health show which secret is in use, and the next pass confirm a
   * key that this pass's read missed.
   */
  connectorSecrets: ConnectorSecretSeen[];
}

export type Thresholds = ReturnType<typeof thresholdsOf>;

export interface Watched {
  summary: ScanSummary;
  connectorApp: GraphApplication | undefined;
  connectorSecrets: ConnectorSecretSeen[];
  /** Watched-app credentials that need attention. */
  attention: CredentialReport[];
  /** Watched apps this pass evaluated. */
  appIds: string[];
}

/** 1. Watch: every credential classified, and what the later steps need of the connector app. */
export async function watch(deps: WatchdogPassPorts, thresholds: Thresholds): Promise<Watched> {
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
    onConnectorApp: (app) => {
      seen.connectorApp = app;
    },
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

export function initialResult(
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

export const NOTHING_WATCHED: Watched = {
  summary: {
    connector: null,
    apps: 0,
    credentials: 0,
    counts: { expired: 0, critical: 0, "rotation-due": 0, ok: 0 },
    soonest: [],
    problems: [],
    signIns: { readable: false, error: "not read" },
    signInsByKey: new Map(),
  },
  connectorApp: undefined,
  connectorSecrets: [],
  attention: [],
  appIds: [],
};

/** The next expiry that matters: what the connector may hold now (after any rotation), and watched apps. */
export function nextExpiryOf(
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

export function exitCodeOf(result: WatchdogPassResult): WatchdogPassResult["exitCode"] {
  if (result.rotation.decision === "failed" || result.rotation.decision === "other-installation") return 3;
  if (result.attention || result.scan.problems.length > 0) return 1;
  return 0;
}
