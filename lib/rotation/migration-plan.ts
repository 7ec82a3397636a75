/**
 * When to ask users to sign in again — the one place that decides it.
 *
 * Without trusted evidence (report unreadable or blind): every valid grant
 * that authenticated while a superseded key may have been in the connector
 * (plus SWITCH_MARGIN_MINUTES) is asked at once: Nylas' renewal article says
 * grants keep the secret they signed in with.
 *
 * With evidence, users are not bothered on inference alone: requests wait
 * REAUTH_DEFER_HOURS after the switch and go out only if Entra still sees the
 * superseded key sign in. If it went quiet while the grants said to depend on
 * it are valid, Nylas moved them to the new secret: nobody is asked.
 */
import type { Config } from "../config.js";
import { HOUR_MS, MINUTE_MS } from "../clock.js";
import { lastUse, type Evidence } from "./evidence.js";
import type { KeyDependents } from "./migrate.js";
import type { KeyRecord } from "./records.js";

export type KeyVerdict =
  /** No trusted evidence: the grants' own timestamps decide. */
  | "inferred"
  /** Evidence, within REAUTH_DEFER_HOURS of the switch: wait before asking anyone. */
  | "waiting"
  /** Evidence: the key still signs in after the switch. */
  | "in-use"
  /** Evidence: quiet since the switch while grants were inferred to depend on it: Nylas moved them. */
  | "moved"
  /** Evidence: quiet since the switch, and no grant was inferred to depend on it. */
  | "quiet";

export interface KeyPlan {
  keyId: string;
  rotationId: string;
  /** Valid grants the timestamps say depend on it. */
  inferred: number;
  /** Last sign-in not counting the watchdog's own proof (evidence mode only). */
  lastUse: string | null;
  verdict: KeyVerdict;
  /** Its dependents are asked to re-authenticate this pass. */
  requestReauth: boolean;
  /** When requests would go out (evidence, waiting). */
  deferredUntil: string | null;
  reason: string;
}

export function planMigration(
  byKey: readonly KeyDependents[],
  records: readonly KeyRecord[],
  evidence: Evidence,
  now: Date,
  config: Pick<Config["rotation"], "reauthDeferHours" | "switchMarginMinutes">,
): KeyPlan[] {
  const byId = new Map(records.map((r) => [r.keyId, r]));
  return byKey.map((k) => {
    const record = byId.get(k.keyId);
    const base = { keyId: k.keyId, rotationId: k.rotationId, inferred: k.count };
    if (evidence.mode !== "evidence" || record?.supersededAt === undefined) {
      return {
        ...base,
        lastUse: null,
        verdict: "inferred" as const,
        requestReauth: k.count > 0,
        deferredUntil: null,
        reason:
          k.count > 0
            ? `${k.count} valid grant(s) authenticated while it may have been in the connector`
            : "no valid grant authenticated while it may have been in the connector",
      };
    }
    const switchedAt = Date.parse(record.supersededAt);
    const use = lastUse(record, records, evidence);
    const usedSince = use !== null && Date.parse(use) > switchedAt + config.switchMarginMinutes * MINUTE_MS;
    const deferredUntil = switchedAt + config.reauthDeferHours * HOUR_MS;
    if (now.getTime() < deferredUntil) {
      return {
        ...base,
        lastUse: use,
        verdict: "waiting" as const,
        requestReauth: false,
        deferredUntil: new Date(deferredUntil).toISOString(),
        reason: `Entra's sign-in report decides at ${new Date(deferredUntil).toISOString()} (REAUTH_DEFER_HOURS) whether anyone still uses it`,
      };
    }
    if (usedSince) {
      return {
        ...base,
        lastUse: use,
        verdict: "in-use" as const,
        requestReauth: k.count > 0,
        deferredUntil: null,
        reason: `Entra saw it sign in at ${use}, after the switch: grants still use it`,
      };
    }
    return {
      ...base,
      lastUse: use,
      verdict: k.count > 0 ? ("moved" as const) : ("quiet" as const),
      requestReauth: false,
      deferredUntil: null,
      reason:
        k.count > 0
          ? `no sign-in with it since the switch (last ${use ?? "never"}) while ${k.count} grant(s) were inferred to depend on it: Nylas moved them to the new secret`
          : `no sign-in with it since the switch (last ${use ?? "never"})`,
    };
  });
}
