/**
 * The rotation itself, within a pass: asks connector-keys.ts whether the
 * connector's secret is due, and when ROTATION and dryRun allow, rotates it
 * (rotate.ts) and reports the outcome to on-call (signals.ts).
 */
import { errorMessage } from "../errors.js";
import { currentDeadline } from "../clients/retry.js";
import { ROTATION_OVERHEAD_MS } from "../config/function-timeout.js";
import type { GraphApplication } from "../clients/graph.js";
import type { MicrosoftConnector } from "../clients/nylas.js";
import type { SecretCheck, SecretCheckInput } from "../clients/entra-token.js";
import type { AlertCollector } from "../incidents/alert-collector.js";
import { thresholdsOf } from "../watch/classify.js";
import { connectorKeys, judgeDue, type ConnectorKey } from "./connector-keys.js";
import type { InstallationRecord } from "./installation.js";
import type { RotationPorts } from "./ports.js";
import { stopUnlessTimeFor } from "./pass-stop.js";
import { loadKeyRecordValues, type KeyRecord } from "./records.js";
import { rotateConnectorSecret, type RotationOutcome, type RotationStep } from "./rotate.js";
import { rotationFailedSignal, rotationRecovered, rotationSucceededAnnouncement } from "./signals.js";

/** Where the step's incident decisions go: the pass gathers them and applies them once, at its end. */
export type ConnectorAlerts = Pick<AlertCollector, "raise" | "resolve" | "announce">;

export interface RotationSummary {
  decision:
    | "not-due"
    | "rotated"
    | "failed"
    | "skipped-locked"
    | "off"
    | "no-connector"
    | "would-rotate"
    | "other-installation"
    /** The pass stopped (its deadline, a throttling service) before it judged or started a rotation. */
    | "stopped";
  reason: string;
  outcome?: RotationOutcome;
  /** The key(s) the connector may hold after this pass; the earliest expiry governs. */
  connectorKeys: ConnectorKey[];
}

/** How a pass asks for the rotation: `watchdog run` flags and test seams. */
export interface RotationOptions {
  forceRotate?: boolean;
  /** Take over a connector another installation manages (`watchdog run --adopt`). */
  adopt?: boolean;
  /** Test seam: a crash after a rotation step. */
  afterStep?: (step: RotationStep) => Promise<void> | void;
  /** Test seam: how a secret is proven (default: a real token request). */
  checkSecret?: (input: SecretCheckInput) => Promise<SecretCheck>;
}

/** What the rotation needs of the pass's input. */
export interface RotateIfDueInput extends RotationOptions {
  connector: MicrosoftConnector;
  /** Why a forced rotation is forced (an adopting pass says so). */
  forceReason?: string;
  dryRun: boolean;
  note: (line: string) => void;
  alerts: ConnectorAlerts;
}

/** Rotates the connector's secret when connector-keys.ts judges it due, and ROTATION and dryRun allow. */
export async function rotateIfDue(
  ports: RotationPorts,
  input: RotateIfDueInput,
  read: {
    app: GraphApplication;
    records: readonly KeyRecord[];
    installation: InstallationRecord;
    refresh: () => Promise<GraphApplication>;
  },
): Promise<RotationSummary> {
  const { config, clock, logger, store, graph, nylas } = ports;
  const { dryRun, note, alerts } = input;
  const appId = read.app.appId;
  const thresholds = thresholdsOf(config);
  const keys = connectorKeys(read.app, read.records, clock.now());
  const { due, why, left } = judgeDue(keys, clock.now(), thresholds, {
    forceRotate: input.forceRotate,
    ...(typeof input.forceReason === "string" ? { forceReason: input.forceReason } : {}),
  });

  if (config.rotation.mode === "off")
    return { decision: "off", reason: `ROTATION=off; ${due ? why : "not due"}`, connectorKeys: keys };
  if (!due)
    return {
      decision: "not-due",
      reason: `the connector's secret has ${left} day(s) left`,
      connectorKeys: keys,
    };
  if (dryRun) {
    note(
      `rotate the connector's secret: ${why}; create a ${config.rotation.secretLifetimeDays}-day secret, prove it with Entra, PATCH the Nylas connector`,
    );
    return { decision: "would-rotate", reason: why, connectorKeys: keys };
  }

  // Cut off midway, a rotation leaves a secret for the next pass to clean up: start one only when it can
  // finish (its proof included) before the pass's deadline.
  stopUnlessTimeFor(
    "rotate",
    currentDeadline(),
    config.rotation.propagationTimeoutSeconds * 1000 + ROTATION_OVERHEAD_MS,
    clock.now(),
  );
  note(`rotate the connector's secret: ${why}`);
  const { checkClientSecret } = await import("../clients/entra-token.js");
  let outcome: RotationOutcome;
  try {
    outcome = await rotateConnectorSecret(read.app, input.connector, read.records, {
      config,
      clock,
      logger,
      store,
      graph,
      nylas,
      checkSecret: input.checkSecret ?? checkClientSecret,
      installationId: read.installation.id,
      ...(input.afterStep ? { afterStep: input.afterStep } : {}),
    });
  } catch (error) {
    outcome = {
      status: "failed",
      rotationId: "(interrupted)",
      reason: errorMessage(error),
      warnings: [],
    };
  }
  const app = await read.refresh();
  const records = await loadKeyRecordValues(store, appId);
  const after = connectorKeys(app, records, clock.now());
  if (outcome.status === "rotated") {
    const resolved = rotationRecovered(appId, outcome.rotationId);
    alerts.resolve(resolved.key, resolved.note);
    alerts.announce(rotationSucceededAnnouncement(appId, outcome));
  } else {
    alerts.raise(rotationFailedSignal(appId, outcome, after, clock.now(), thresholds));
  }
  return {
    decision: outcome.status === "rotated" ? "rotated" : "failed",
    reason: outcome.status === "rotated" ? `rotated: ${why}` : outcome.reason,
    outcome,
    connectorKeys: after,
  };
}
