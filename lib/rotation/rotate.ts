/**
 * One rotation, as a list of named steps with a durable record before each
 * risky one (ARCHITECTURE.md: "The rotation state machine is a list of named
 * steps with a persisted record after each"):
 *
 *   inflight ─► addPassword ─► record key ─► prove with Entra ─► mark sent ─►
 *   PATCH connector ─► mark installed ─► supersede the rest ─► clear inflight
 *
 * The secret value lives only in this function's memory and in the PATCH
 * body. A crash at any step leaves the connector on a live secret: nothing
 * touches Nylas before Entra accepts the new secret, and the old secret is
 * never removed here (retirement does that, later, when nothing depends on it).
 * The caller holds the single-flight lease.
 */
import type { StateStore } from "../state/store.js";
import type { GraphApplication } from "../clients/graph.js";
import type { MicrosoftConnector } from "../clients/nylas.js";
import { HttpError, errorMessage } from "../errors.js";
import { earliestForeignExpiry } from "./connector-keys.js";
import { newRotationId } from "./marker.js";
import { proveSecret } from "./prove.js";
import {
  FOREIGN,
  INFLIGHT_KEY,
  connectorCandidates,
  keyRecordKey,
  saveAttempt,
  saveKeyRecord,
  type AttemptRecord,
  type InflightRecord,
  type KeyRecord,
} from "./records.js";
import { addPasswordWithPolicy, removeValuelessTwins } from "./rotate-add.js";
import { removeKeyWithRetry } from "./rotate-remove.js";
import type { RotationDeps, RotationOutcome, RotationStep } from "./rotate-types.js";

export {
  ROTATION_STEPS,
  type RotationDeps,
  type RotationOutcome,
  type RotationStep,
} from "./rotate-types.js";
export { hasGraphCode } from "./rotate-add.js";
export { removeKeyWithRetry } from "./rotate-remove.js";

/**
 * Rotates the connector's secret: `app` is the connector's app registration
 * (fresh from Graph), `records` the watchdog's key records for it.
 */
export async function rotateConnectorSecret(
  app: GraphApplication,
  connector: MicrosoftConnector,
  records: readonly KeyRecord[],
  deps: RotationDeps,
): Promise<RotationOutcome> {
  const step = async (name: RotationStep) => deps.afterStep?.(name);
  const now = () => deps.clock.now().toISOString();
  const rotationId = newRotationId(deps.clock.now());
  const warnings: string[] = [];
  const log = deps.logger;
  if (connector.clientId === undefined) {
    return {
      status: "failed",
      rotationId,
      reason: "The Nylas Microsoft connector has no settings.client_id: an update would have to invent it.",
      instructions:
        "Set the connector's settings.client_id to the Azure app registration's Application (client) ID in the Nylas dashboard, then run 'watchdog run'.",
      warnings,
    };
  }

  // Adoption: nothing recorded as in the connector means the connector holds a secret the watchdog did not
  // create. Record that before anything else, so grants from before this rotation stay tracked even after a crash.
  let all = [...records];
  if (connectorCandidates(all).length === 0) {
    const foreign: KeyRecord = {
      v: 1,
      keyId: FOREIGN,
      appId: app.appId,
      appObjectId: app.id,
      rotationId,
      createdAt: now(),
      endDateTime: earliestForeignExpiry(app, all, deps.clock.now()),
      state: "installed",
      windowStart: null,
      installedAt: now(),
    };
    await saveKeyRecord(deps.store, foreign);
    all = [...all.filter((r) => r.keyId !== FOREIGN), foreign];
  }

  const inflight: InflightRecord = {
    v: 1,
    rotationId,
    appId: app.appId,
    appObjectId: app.id,
    phase: "creating",
    startedAt: now(),
    updatedAt: now(),
  };
  // Kept after the rotation ends: the evidence later runs use to tell keys that never reached Nylas.
  const attempt: AttemptRecord = {
    v: 1,
    rotationId,
    installationId: deps.installationId,
    appId: app.appId,
    startedAt: now(),
    receivedKeyIds: [],
  };
  await saveAttempt(deps.store, attempt);
  await deps.store.put("rotation", INFLIGHT_KEY, inflight);
  await step("inflight-recorded");

  const added = await addPasswordWithPolicy(app, attempt, all, deps, warnings);
  if ("failed" in added) {
    await deps.store.delete("rotation", INFLIGHT_KEY);
    return { status: "failed", rotationId, reason: added.failed, instructions: added.instructions, warnings };
  }
  const { password, lifetimeDays } = added;
  // The value exists only here and in the PATCH body: never logged, stored or returned.
  const secret = password.secretText;
  attempt.receivedKeyIds.push(password.keyId);
  await saveAttempt(deps.store, attempt);
  log.info(
    `rotation ${rotationId}: created secret ${password.keyId} (hint ${password.hint ?? "?"}), ends ${password.endDateTime}`,
  );
  await step("password-added");

  const record: KeyRecord = {
    v: 1,
    keyId: password.keyId,
    appId: app.appId,
    appObjectId: app.id,
    rotationId,
    createdAt: now(),
    endDateTime: password.endDateTime,
    state: "created",
    windowStart: null,
  };
  await saveKeyRecord(deps.store, record);
  await deps.store.put("rotation", INFLIGHT_KEY, {
    ...inflight,
    phase: "created",
    keyId: password.keyId,
    updatedAt: now(),
  });
  await step("key-recorded");

  const abandon = async (reason: string, instructions?: string): Promise<RotationOutcome> => {
    // Never sent to Nylas: provably not in the connector, so it must go (no orphans).
    const removed = await removeKeyWithRetry(deps.graph, app.id, password.keyId, deps);
    if (removed) await saveKeyRecord(deps.store, { ...record, state: "removed", removedAt: now() });
    else
      log.error(
        `rotation ${rotationId}: could not remove unused secret ${password.keyId}; the next run retries`,
      );
    if (removed) await deps.store.delete("rotation", INFLIGHT_KEY);
    return { status: "failed", rotationId, reason, ...(instructions ? { instructions } : {}), warnings };
  };

  const proof = await proveSecret(
    {
      tenantId: deps.config.azure.tenantId,
      clientId: app.appId,
      secret,
      authorityHost: deps.config.azure.authorityHost,
      graphEndpoint: deps.config.azure.graphEndpoint,
    },
    {
      clock: deps.clock,
      logger: log,
      checkSecret: deps.checkSecret,
      timeoutSeconds: deps.config.rotation.propagationTimeoutSeconds,
    },
  );
  if (!proof.ok) {
    return abandon(
      `Entra did not accept the new secret: ${proof.lastError ?? "unknown"}.`,
      "If Entra is slow to propagate in this tenant, raise PROPAGATION_TIMEOUT_SECONDS; otherwise check the app registration in the Azure portal.",
    );
  }
  await step("secret-proven");

  // From here on a PATCH carrying the key may reach Nylas: the key may be in the connector.
  const sent: KeyRecord = { ...record, state: "sent", windowStart: now(), provenAt: now() };
  await saveKeyRecord(deps.store, sent);
  await saveAttempt(deps.store, { ...attempt, sentKeyId: password.keyId });
  await deps.store.put("rotation", INFLIGHT_KEY, {
    ...inflight,
    phase: "installing",
    keyId: password.keyId,
    updatedAt: now(),
  });
  await step("key-sent");

  let after: MicrosoftConnector | undefined;
  try {
    after = await deps.nylas.patchMicrosoftConnector({ connector, clientSecret: secret });
  } catch (error) {
    if (error instanceof HttpError && !error.ambiguous && error.statusCode >= 400 && error.statusCode < 500) {
      // Nylas refused the PATCH: the connector still holds its previous secret.
      return abandon(
        `Nylas refused the connector update (${error.statusCode}${error.code ? ` ${error.code}` : ""}): ${errorMessage(error)}`,
        "Check NYLAS_API_KEY (it must be allowed to manage connectors) and NYLAS_API_URI; the connector is unchanged.",
      );
    }
    await saveKeyRecord(deps.store, { ...sent, ambiguous: true });
    await deps.store.delete("rotation", INFLIGHT_KEY);
    log.error(
      `rotation ${rotationId}: the connector update could not be confirmed (${errorMessage(error)}). Secret ${password.keyId} is kept and marked ambiguous; the next successful rotation cleans it up.`,
    );
    return {
      status: "failed",
      rotationId,
      ambiguous: true,
      reason: `The Nylas connector update could not be confirmed either way: ${errorMessage(error)}`,
      instructions:
        "Nothing to do by hand: the connector holds a live secret either way. The next run rotates again and cleans up.",
      warnings,
    };
  }
  await step("connector-patched");

  const installedAt = now();
  await saveKeyRecord(deps.store, {
    ...sent,
    state: "installed",
    installedAt,
    ...(after?.activeCredentialId ? { activeCredentialId: after.activeCredentialId } : {}),
  });
  await step("key-installed");

  const superseded = await supersedeOthers(deps.store, all, password.keyId, rotationId, installedAt);
  await step("others-superseded");

  await deps.store.delete("rotation", INFLIGHT_KEY);
  await step("inflight-cleared");
  // A lost addPassword answer that Graph's read did not yet show may have left a twin: it never had a value.
  await removeValuelessTwins(app.appId, app.id, { ...attempt, sentKeyId: password.keyId }, deps).catch(
    (error: unknown) => log.warn(`rotation ${rotationId}: checking for twins failed: ${errorMessage(error)}`),
  );
  log.info(
    `rotation ${rotationId}: the Nylas connector now holds secret ${password.keyId}; superseded: ${superseded.join(", ") || "none"}`,
  );

  return {
    status: "rotated",
    rotationId,
    keyId: password.keyId,
    endDateTime: password.endDateTime ?? "",
    lifetimeDays,
    propagationMs: proof.waitedMs,
    superseded,
    warnings,
  };
}

/**
 * After a definitive switch to `newKeyId` at `at`: every other key that was or
 * may have been in the connector is superseded from that moment.
 */
export async function supersedeOthers(
  store: StateStore,
  records: readonly KeyRecord[],
  newKeyId: string,
  rotationId: string,
  at: string,
): Promise<string[]> {
  const out: string[] = [];
  for (const r of connectorCandidates(records)) {
    if (r.keyId === newKeyId) continue;
    const current = await store.get<KeyRecord>("rotation", keyRecordKey(r.appId, r.keyId));
    const value = current?.value ?? r;
    if (value.state !== "installed" && value.state !== "sent") continue;
    await saveKeyRecord(store, { ...value, state: "superseded", supersededAt: at, supersededBy: rotationId });
    out.push(r.keyId);
  }
  return out;
}
