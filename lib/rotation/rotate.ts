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
import type { Clock } from "../clock.js";
import { DAY_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication, GraphClient, NewPassword } from "../clients/graph.js";
import type { MicrosoftConnector } from "../clients/nylas.js";
import type { SecretCheck, SecretCheckInput } from "../clients/entra-token.js";
import type { RotationPorts } from "./ports.js";
import { HttpError, errorMessage } from "../errors.js";
import { isExpired } from "../watch/classify.js";
import { markerFor, newRotationId, parseMarker } from "./marker.js";
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

export type RotationStep =
  | "inflight-recorded"
  | "password-added"
  | "key-recorded"
  | "secret-proven"
  | "key-sent"
  | "connector-patched"
  | "key-installed"
  | "others-superseded"
  | "inflight-cleared";

export const ROTATION_STEPS: readonly RotationStep[] = [
  "inflight-recorded",
  "password-added",
  "key-recorded",
  "secret-proven",
  "key-sent",
  "connector-patched",
  "key-installed",
  "others-superseded",
  "inflight-cleared",
];

export interface RotationDeps extends RotationPorts {
  checkSecret: (input: SecretCheckInput) => Promise<SecretCheck>;
  /** This store's installation: written into every key's marker. */
  installationId: string;
  /** Test seam: runs after each step; throwing there is a crash at that point. */
  afterStep?: (step: RotationStep) => Promise<void> | void;
}

export type RotationOutcome =
  | {
      status: "rotated";
      rotationId: string;
      keyId: string;
      endDateTime: string;
      lifetimeDays: number;
      propagationMs: number;
      superseded: string[];
      warnings: string[];
    }
  | {
      status: "failed";
      rotationId: string;
      reason: string;
      /** What a person must do, when waiting will not fix it. */
      instructions?: string;
      /** The PATCH may or may not have reached Nylas: the new key is kept, marked ambiguous. */
      ambiguous?: boolean;
      warnings: string[];
    };

/** Lifetimes tried, longest first, when tenant policy refuses the configured one. */
const FALLBACK_LIFETIMES_DAYS = [540, 365, 270, 180, 120, 90, 60, 30, 14, 7];
const MAX_REMOVE_ATTEMPTS = 5;

/** Graph's "Error due to concurrent requests being made to the tenant" is transient (Infisical treats it so). */
function isConcurrencyError(error: unknown): boolean {
  return (
    error instanceof HttpError && (error.statusCode === 409 || /concurrent requests/i.test(error.message))
  );
}

/** A Graph error code at the top level or in `details[].code` (TooManyAppPasswords is reported in both). */
export function hasGraphCode(error: unknown, code: string): boolean {
  if (!(error instanceof HttpError)) return false;
  if (error.code === code) return true;
  try {
    const body = JSON.parse(error.body ?? "{}") as { error?: { details?: { code?: string }[] } };
    return (body.error?.details ?? []).some((d) => d.code === code);
  } catch {
    return false;
  }
}

/** removePassword on a key that is not there: Graph's 404, or 400 with the key-id codes. */
function isAlreadyGone(error: unknown): boolean {
  return (
    error instanceof HttpError &&
    (error.statusCode === 404 ||
      (error.statusCode === 400 &&
        ["InvalidKeyId", "Request_ResourceNotFound", "NoSuchPasswordCredential"].includes(error.code ?? "")))
  );
}

const MAX_WAIT_MS = 60_000;

/** How long to wait before retrying after `error`: Retry-After when given (capped), else back-off. */
function waitFor(error: unknown, attempt: number): number {
  const after = error instanceof HttpError ? error.retryAfterMs : undefined;
  return Math.min(after ?? 1000 * 2 ** attempt, MAX_WAIT_MS);
}

/**
 * Removes a key the rules allow removing. Sent once per attempt (never replayed
 * by the SDK); an attempt that failed ambiguously is simply tried again, since
 * a key already gone answers "not found", which counts as done.
 */
export async function removeKeyWithRetry(
  graph: GraphClient,
  appObjectId: string,
  keyId: string,
  deps: { clock: Clock; logger: Logger },
): Promise<boolean> {
  for (let attempt = 1; attempt <= MAX_REMOVE_ATTEMPTS; attempt++) {
    try {
      await graph.removePassword(appObjectId, keyId);
      return true;
    } catch (error) {
      if (isAlreadyGone(error)) return true;
      deps.logger.warn(
        `rotation: removing secret ${keyId} failed (attempt ${attempt}): ${errorMessage(error)}`,
      );
      if (error instanceof HttpError && error.statusCode === 403) return false;
      if (attempt < MAX_REMOVE_ATTEMPTS) await deps.clock.sleep(waitFor(error, attempt));
    }
  }
  return false;
}

/** The earliest expiry among the app's unexpired secrets the watchdog does not track (by key id). */
export function earliestForeignExpiry(
  app: GraphApplication,
  tracked: readonly Pick<KeyRecord, "keyId">[],
  now: Date,
): string | null {
  const ours = new Set(tracked.map((r) => r.keyId));
  const foreign = app.passwordCredentials.filter((p) => !ours.has(p.keyId) && p.endDateTime !== null);
  const live = foreign.filter((p) => !isExpired(p.endDateTime, now));
  const pool = live.length > 0 ? live : foreign;
  const sorted = pool.map((p) => p.endDateTime!).sort();
  return sorted[0] ?? null;
}

interface AddResult {
  password: NewPassword;
  lifetimeDays: number;
}

const MAX_AMBIGUOUS_ADDS = 3;
const MAX_THROTTLED_ADDS = 4;

/**
 * Keys of this rotation on the app whose value this installation never
 * received: nobody ever held their value, so none can be in the connector.
 * Removing them is safe, and keeps the watchdog's own retries from holding two
 * slots (an app open to personal accounts allows only two secrets).
 */
async function removeValuelessTwins(
  appId: string,
  appObjectId: string,
  attempt: AttemptRecord,
  deps: RotationDeps,
): Promise<string[]> {
  const fresh = await deps.graph.getApplicationByAppId(appId);
  const removed: string[] = [];
  for (const p of fresh?.passwordCredentials ?? []) {
    const marker = parseMarker(p.displayName);
    if (
      marker?.rotationId !== attempt.rotationId ||
      marker.installationId !== attempt.installationId ||
      attempt.receivedKeyIds.includes(p.keyId)
    )
      continue;
    deps.logger.warn(
      `rotation ${attempt.rotationId}: removing secret ${p.keyId}, created by an addPassword whose answer was lost (its value was never received, so it cannot be in the connector)`,
    );
    if (await removeKeyWithRetry(deps.graph, appObjectId, p.keyId, deps)) removed.push(p.keyId);
  }
  return removed;
}

async function addPasswordWithPolicy(
  app: GraphApplication,
  attempt: AttemptRecord,
  records: readonly KeyRecord[],
  deps: RotationDeps,
  warnings: string[],
): Promise<AddResult | { failed: string; instructions: string }> {
  const configured = deps.config.rotation.secretLifetimeDays;
  const lifetimes = [configured, ...FALLBACK_LIFETIMES_DAYS.filter((d) => d < configured)];
  let freedSlot = false;
  let concurrencyRetries = 0;
  let ambiguousRetries = 0;
  let throttledRetries = 0;
  for (let i = 0; i < lifetimes.length;) {
    const lifetimeDays = lifetimes[i]!;
    const endDateTime = new Date(deps.clock.now().getTime() + lifetimeDays * DAY_MS).toISOString();
    try {
      const password = await deps.graph.addPassword(app.id, {
        displayName: markerFor(attempt.installationId, attempt.rotationId),
        endDateTime,
      });
      if (lifetimeDays !== configured) {
        const warning = `Tenant policy refused a ${configured}-day secret; created one for ${lifetimeDays} days. Lower SECRET_LIFETIME_DAYS to ${lifetimeDays} or less to match the policy.`;
        warnings.push(warning);
        deps.logger.warn(`rotation: ${warning}`);
        if (lifetimeDays <= deps.config.rotation.rotateBeforeDays) {
          warnings.push(
            `The policy's lifetime (${lifetimeDays} days) is not above ROTATE_BEFORE_DAYS (${deps.config.rotation.rotateBeforeDays}): every run would rotate again. Lower ROTATE_BEFORE_DAYS below ${lifetimeDays}.`,
          );
        }
      }
      return { password, lifetimeDays };
    } catch (error) {
      if (error instanceof HttpError && error.code === "CredentialInvalidLifetimeAsPerAppPolicy") {
        i++;
        continue;
      }
      if (isConcurrencyError(error) && concurrencyRetries < 4) {
        concurrencyRetries++;
        deps.logger.warn(
          `rotation: Graph reported concurrent requests to the tenant; retrying (${concurrencyRetries})`,
        );
        await deps.clock.sleep(2000 * 2 ** concurrencyRetries);
        continue;
      }
      if (error instanceof HttpError && error.statusCode === 429 && throttledRetries < MAX_THROTTLED_ADDS) {
        // A throttled request was not processed: sending it again cannot create a second secret.
        throttledRetries++;
        await deps.clock.sleep(waitFor(error, throttledRetries));
        continue;
      }
      if (error instanceof HttpError && error.ambiguous && ambiguousRetries < MAX_AMBIGUOUS_ADDS) {
        // A timeout, reset or 5xx may have created the secret anyway: read back, remove what this rotation
        // created without our ever seeing its value, then try again.
        ambiguousRetries++;
        deps.logger.warn(
          `rotation ${attempt.rotationId}: addPassword answered ambiguously (${errorMessage(error)}); reconciling before retrying`,
        );
        await deps.clock.sleep(waitFor(error, ambiguousRetries));
        await removeValuelessTwins(app.appId, app.id, attempt, deps);
        continue;
      }
      if (hasGraphCode(error, "TooManyAppPasswords") && !freedSlot) {
        if ((await removeValuelessTwins(app.appId, app.id, attempt, deps)).length > 0) continue;
        const freed = await freeSecretSlot(app, records, deps);
        if (freed !== undefined) {
          freedSlot = true;
          warnings.push(`Removed secret ${freed} (created by the watchdog, no longer needed) to make room.`);
          continue;
        }
        return slotFailure(app, records);
      }
      throw error;
    }
  }
  return {
    failed: "Tenant policy refused every secret lifetime down to 7 days.",
    instructions:
      "Check the tenant's app management policy (passwordCredentialConfiguration, restrictionType passwordLifetime or passwordAddition) with your Entra administrator.",
  };
}

/**
 * No slot for a new secret and none the rules allow removing. The message
 * names each key and what is known of it; it never asks a person to guess
 * which one "nothing uses".
 */
function slotFailure(
  app: GraphApplication,
  records: readonly KeyRecord[],
): { failed: string; instructions: string } {
  const byId = new Map(records.map((r) => [r.keyId, r]));
  const describe = (p: GraphApplication["passwordCredentials"][number]) => {
    const r = byId.get(p.keyId);
    const role =
      r === undefined
        ? parseMarker(p.displayName)
          ? "made by another watchdog installation: may be in the connector"
          : "not made by the watchdog: may be in the connector"
        : r.state === "installed"
          ? "in the Nylas connector"
          : r.state === "sent"
            ? "may be in the connector (an earlier update could not be confirmed)"
            : r.state === "superseded"
              ? "superseded: valid grants may still use it"
              : r.state;
    return `${p.keyId} ("${p.displayName ?? "no name"}", ends ${p.endDateTime ?? "never"}; ${role})`;
  };
  const doubt = records.filter((r) => r.state === "sent" || r.state === "installed");
  const inDoubt = doubt.length > 1;
  return {
    failed: inDoubt
      ? `The app registration already holds the maximum number of client secrets, and the Nylas connector may hold either of ${doubt.map((r) => r.keyId).join(" or ")} (an earlier connector update could not be confirmed): neither may be removed.`
      : `The app registration already holds the maximum number of client secrets (apps open to personal Microsoft accounts may hold 2), and none of them is one the watchdog may remove.`,
    instructions: inDoubt
      ? `Find out which secret Nylas uses: in the Microsoft Entra admin center, Monitoring & health → Usage & insights → "Application credential activity" (Microsoft Learn: "Application credential activity report", https://learn.microsoft.com/en-us/entra/identity/monitoring-health/concept-usage-insights-report) lists each key's last sign-in; the key with sign-ins after the update is the one in the connector. Or grant the watchdog's identity AuditLog.Read.All so it settles this itself on the next pass. Secrets now: ${app.passwordCredentials.map(describe).join("; ")}.`
      : `In the Azure portal → App registrations → ${app.displayName ?? app.appId} → Certificates & secrets, the secrets are: ${app.passwordCredentials.map(describe).join("; ")}. Remove one only once you know no Nylas grant uses it (see "Application credential activity" in the Entra admin center, https://learn.microsoft.com/en-us/entra/identity/monitoring-health/concept-usage-insights-report). Then run 'watchdog run --force-rotate'.`,
  };
}

/**
 * Frees one secret slot by removing a key the rules allow: a watchdog-created
 * key that is expired, or superseded with nothing recorded as depending on it
 * past its grace. Never the connector's, never a foreign one.
 */
async function freeSecretSlot(
  app: GraphApplication,
  records: readonly KeyRecord[],
  deps: RotationDeps,
): Promise<string | undefined> {
  const now = deps.clock.now();
  const present = new Set(app.passwordCredentials.map((p) => p.keyId));
  const candidates = records.filter(
    (r) =>
      r.keyId !== FOREIGN &&
      r.origin !== "adopted" &&
      present.has(r.keyId) &&
      (r.state === "superseded" || r.state === "created") &&
      isExpired(r.endDateTime, now),
  );
  for (const record of candidates) {
    if (await removeKeyWithRetry(deps.graph, app.id, record.keyId, deps)) {
      await saveKeyRecord(deps.store, { ...record, state: "removed", removedAt: now.toISOString() });
      return record.keyId;
    }
  }
  return undefined;
}

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
