/**
 * The incidents and announcements the connector's rotation raises, built in
 * one place so that the pass, the sandbox and the tests see the very same
 * strings. Each builder takes what was decided; none decides anything itself
 * beyond wording and severity.
 */
import type { Config } from "../config.js";
import type { Resolution } from "../incidents/alert-collector.js";
import type { Announcement, Signal } from "../incidents/incident.js";
import { classify, daysLeft, type CredentialStatus, type Thresholds } from "../watch/classify.js";
import type { ScanProblem } from "../watch/scan.js";
import { governingEnd, type ConnectorKey } from "./connector-keys.js";
import type { Ownership } from "./ownership.js";
import { FOREIGN } from "./records.js";
import type { RotationOutcome } from "./rotate.js";

type RotationMode = Config["rotation"]["mode"];

const ROTATION_BLOCKED_KEY = "rotation.blocked:connector";

function rotationFailedKey(appId: string): string {
  return `rotation.failed:${appId}`;
}

function installationConflictKey(appId: string): string {
  return `installation.conflict:${appId}`;
}

/** A connector the watchdog cannot rotate (no client_id, its app not found): the problem that says what is missing. */
export function blockingProblem(problems: readonly ScanProblem[]): ScanProblem | undefined {
  return problems.find((p) => p.code.startsWith("connector."));
}

export function rotationBlockedSignal(problem: ScanProblem, mode: RotationMode): Signal {
  return {
    key: ROTATION_BLOCKED_KEY,
    kind: "rotation.blocked",
    severity: "warning",
    summary: `The Nylas connector's secret cannot be rotated: ${problem.message}`,
    details: { code: problem.code, rotation: mode },
    remediation: [problem.fix],
    links: [],
  };
}

export function rotationUnblocked(): Resolution {
  return {
    key: ROTATION_BLOCKED_KEY,
    note: "The connector and its app registration are readable again: the connector's secret can be rotated.",
  };
}

/** Another installation's keys are on the app and this one was not told `--adopt`: it changed nothing. */
export function installationConflictSignal(
  appId: string,
  installationId: string,
  ownership: Ownership,
): Signal {
  return {
    key: installationConflictKey(appId),
    kind: "installation.conflict",
    severity: "warning",
    summary: `Another secret-watchdog installation manages the Nylas connector's app registration; this one (${installationId}) changed nothing`,
    details: {
      app_id: appId,
      this_installation: installationId,
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
  };
}

export function installationSettled(appId: string, installationId: string): Resolution {
  return {
    key: installationConflictKey(appId),
    note: `Installation ${installationId} manages the connector's secret now; another installation is refused and changes nothing.`,
  };
}

export function rotationSucceededAnnouncement(
  appId: string,
  outcome: Extract<RotationOutcome, { status: "rotated" }>,
): Announcement {
  return {
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
  };
}

/** A rotation that succeeded resolves the failure before it. */
export function rotationRecovered(appId: string, rotationId: string): Resolution {
  return {
    key: rotationFailedKey(appId),
    note: `Rotation ${rotationId} succeeded: the connector holds a new secret that Entra accepts.`,
  };
}

/** A failed rotation: critical when what the connector holds is expired or within ALERT_BEFORE_DAYS. */
export function rotationFailedSignal(
  appId: string,
  outcome: Extract<RotationOutcome, { status: "failed" }>,
  keys: readonly ConnectorKey[],
  now: Date,
  thresholds: Thresholds,
): Signal {
  const ends = governingEnd(keys, now);
  const criticalNow = classify(ends, now, thresholds);
  return {
    key: rotationFailedKey(appId),
    kind: "rotation.failed",
    severity: criticalNow === "expired" || criticalNow === "critical" ? "critical" : "warning",
    summary: `Rotating the Nylas connector's client secret failed: ${outcome.reason}`.slice(0, 300),
    details: {
      app_id: appId,
      rotation_id: outcome.rotationId,
      reason: outcome.reason,
      ambiguous: outcome.ambiguous === true,
      connector_secret_ends: ends,
    },
    remediation: [
      ...(outcome.instructions ? [outcome.instructions] : []),
      "The connector keeps its current secret; the next pass (WATCHDOG_SCHEDULE) tries again. Run `watchdog run` to retry now, `watchdog doctor` to check the setup.",
    ],
    links: [],
  };
}

/** The connector's own secret close to expiry (or gone) and not fixed by rotation; `status` from `keyStatus`. */
export function connectorExpiringSignal(
  appId: string,
  key: ConnectorKey,
  status: CredentialStatus,
  now: Date,
  mode: RotationMode,
): Signal {
  return {
    key: `secret.expiring:${appId}:${key.keyId}`,
    kind: "secret.expiring",
    severity: "critical",
    summary: key.present
      ? `The Nylas connector's client secret ${key.keyId === FOREIGN ? "" : `${key.keyId} `}${status === "expired" ? "has expired" : `expires in ${daysLeft(key.endDateTime, now)} day(s)`}: new Microsoft sign-ins fail when it does`
      : `The Nylas connector's client secret ${key.keyId} was deleted from the app registration: new Microsoft sign-ins fail (AADSTS7000215)`,
    details: { app_id: appId, key_id: key.keyId, ends: key.endDateTime, rotation: mode },
    remediation: [
      mode === "off"
        ? "ROTATION=off: create a new client secret, put its value (not its ID) into the Nylas Microsoft connector, or set ROTATION=auto and run `watchdog run`."
        : "Rotation did not fix it: see the rotation.failed incident, run `watchdog doctor`, then `watchdog run --force-rotate`.",
    ],
    links: [],
  };
}
