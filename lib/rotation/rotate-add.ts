/**
 * Creating the rotation's secret. addPassword is not idempotent: it is repeated
 * as is only after an answer proving Graph did not act on it (throttled,
 * concurrent requests), and after an ambiguous answer (timeout, 5xx) only once
 * the value-less twin it may have created has been read back and removed
 * (ARCHITECTURE.md: "Writes to Graph are never replayed blindly").
 */
import { DAY_MS } from "../clock.js";
import type { GraphApplication, NewPassword } from "../clients/graph.js";
import { isTransientGraph, withRetry, type RetryPolicy } from "../clients/retry.js";
import { HttpError, errorMessage } from "../errors.js";
import { isExpired } from "../watch/classify.js";
import { markerFor, parseMarker } from "./marker.js";
import { FOREIGN, saveKeyRecord, type AttemptRecord, type KeyRecord } from "./records.js";
import { removeKeyWithRetry } from "./rotate-remove.js";
import { slotFailure } from "./rotate-slots.js";
import type { RotationDeps } from "./rotate-types.js";

/** Lifetimes tried, longest first, when tenant policy refuses the configured one. */
const FALLBACK_LIFETIMES_DAYS = [540, 365, 270, 180, 120, 90, 60, 30, 14, 7];

/** Per lifetime tried: throttles, "concurrent requests" and reconciled ambiguous answers share these attempts. */
const ADD_RETRY: Partial<RetryPolicy> = { maxAttempts: 6, baseDelayMs: 2_000 };

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

export interface AddResult {
  password: NewPassword;
  lifetimeDays: number;
}

/**
 * Keys of this rotation on the app whose value this installation never
 * received: nobody ever held their value, so none can be in the connector.
 * Removing them is safe, and keeps the watchdog's own retries from holding two
 * slots (an app open to personal accounts allows only two secrets).
 */
export async function removeValuelessTwins(
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

/** One addPassword for `lifetimeDays`, retried by the one retry policy as a call that is not idempotent. */
function addOnce(
  app: GraphApplication,
  attempt: AttemptRecord,
  lifetimeDays: number,
  deps: RotationDeps,
): Promise<NewPassword> {
  return withRetry(
    () =>
      deps.graph.addPassword(app.id, {
        displayName: markerFor(attempt.installationId, attempt.rotationId),
        endDateTime: new Date(deps.clock.now().getTime() + lifetimeDays * DAY_MS).toISOString(),
      }),
    {
      idempotent: false,
      transient: isTransientGraph,
      policy: ADD_RETRY,
      sleep: (ms, abort) => deps.clock.sleep(ms, abort),
      onRetry: ({ attempt: n, error }) =>
        deps.logger.warn(
          error.ambiguous && !isTransientGraph(error, false)
            ? `rotation ${attempt.rotationId}: addPassword answered ambiguously (${errorMessage(error)}); reconciling before retrying`
            : `rotation: Graph did not process addPassword (${error.statusCode}${error.code ? ` ${error.code}` : ""}); retrying (${n})`,
        ),
      // A timeout, reset or 5xx may have created the secret anyway: remove what this rotation created
      // without our ever seeing its value, then try again.
      reconcile: async () => {
        await removeValuelessTwins(app.appId, app.id, attempt, deps);
      },
    },
  );
}

function lifetimeWarnings(lifetimeDays: number, deps: RotationDeps, warnings: string[]): void {
  const configured = deps.config.rotation.secretLifetimeDays;
  if (lifetimeDays === configured) return;
  const warning = `Tenant policy refused a ${configured}-day secret; created one for ${lifetimeDays} days. Lower SECRET_LIFETIME_DAYS to ${lifetimeDays} or less to match the policy.`;
  warnings.push(warning);
  deps.logger.warn(`rotation: ${warning}`);
  if (lifetimeDays <= deps.config.rotation.rotateBeforeDays) {
    warnings.push(
      `The policy's lifetime (${lifetimeDays} days) is not above ROTATE_BEFORE_DAYS (${deps.config.rotation.rotateBeforeDays}): every run would rotate again. Lower ROTATE_BEFORE_DAYS below ${lifetimeDays}.`,
    );
  }
}

export async function addPasswordWithPolicy(
  app: GraphApplication,
  attempt: AttemptRecord,
  records: readonly KeyRecord[],
  deps: RotationDeps,
  warnings: string[],
): Promise<AddResult | { failed: string; instructions: string }> {
  const configured = deps.config.rotation.secretLifetimeDays;
  const lifetimes = [configured, ...FALLBACK_LIFETIMES_DAYS.filter((d) => d < configured)];
  let freedSlot = false;
  for (let i = 0; i < lifetimes.length;) {
    const lifetimeDays = lifetimes[i]!;
    try {
      const password = await addOnce(app, attempt, lifetimeDays, deps);
      lifetimeWarnings(lifetimeDays, deps, warnings);
      return { password, lifetimeDays };
    } catch (error) {
      if (error instanceof HttpError && error.code === "CredentialInvalidLifetimeAsPerAppPolicy") {
        i++;
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
