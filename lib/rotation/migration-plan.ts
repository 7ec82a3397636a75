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
 *
 * And what the migration incident says about it: `decideMigrationIncident`,
 * asked by the watchdog pass (with the evidence) and by the sweep (without).
 */
import type { Config } from "../config.js";
import { HOUR_MS, MINUTE_MS } from "../clock.js";
import { lastUse, type Evidence } from "./evidence.js";
import type { Signal } from "../incidents/incident.js";
import { migrationIncidentKey, migrationSignal, type KeyDependents } from "./migrate.js";
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

/** Keys whose dependents are still expected to sign in again: inferred ones Nylas did not move. */
export function pendingKeys(plans: readonly KeyPlan[]): Set<string> {
  return new Set(plans.filter((p) => p.inferred > 0 && p.verdict !== "moved").map((p) => p.keyId));
}

/** The resolve notes say what is true now. */
export const NOTHING_SUPERSEDED_NOTE = "No superseded secret is depended on.";
export const MIGRATION_COMPLETE_NOTE =
  "Migration complete: 0 users left on the old secret; every valid grant uses the current one.";

export function movedNote(moved: readonly KeyPlan[]): string {
  const n = moved.reduce((sum, p) => sum + p.inferred, 0);
  return `Migration complete: Entra reports no sign-in with the old secret (${moved.map((p) => p.keyId).join(", ")}) since the switch, while ${n} valid grant(s) were said to depend on it: Nylas moved them to the new secret. Nobody needs to sign in again.`;
}

export interface MigrationIncidentInput {
  appId: string;
  /** Per superseded key of the app, the valid grants that depend on it (empty: nothing superseded). */
  byKey: readonly KeyDependents[];
  /** Valid grants whose users are still expected to sign in again. */
  dependents: number;
  /**
   * The pass's plans, judged on Entra's evidence; undefined for an observer without it (the sweep),
   * which then only refreshes the counts of an incident the pass opened and is not waiting on.
   */
  plans: readonly KeyPlan[] | undefined;
  /** The incident as it stands, for an observer without evidence. */
  current?: { firing: boolean; waiting: boolean } | undefined;
  /** The grant read was complete and consistent: "nobody left" may be believed. */
  complete: boolean;
  now: Date;
  config: Config;
}

export type MigrationIncidentChange =
  | { action: "raise"; key: string; signal: Signal }
  | { action: "resolve"; key: string; note: string }
  | { action: "keep"; key: string };

/** What happens to the migration incident of `appId`: the one decision of its words. */
export function decideMigrationIncident(input: MigrationIncidentInput): MigrationIncidentChange {
  const key = migrationIncidentKey(input.appId);
  if (input.byKey.length === 0) return { action: "resolve", key, note: NOTHING_SUPERSEDED_NOTE };
  if (input.dependents > 0) return raiseOrKeep(input, key);
  const moved = (input.plans ?? []).filter((p) => p.verdict === "moved");
  if (moved.length > 0) return { action: "resolve", key, note: movedNote(moved) };
  if (input.complete) return { action: "resolve", key, note: MIGRATION_COMPLETE_NOTE };
  return { action: "keep", key };
}

function raiseOrKeep(input: MigrationIncidentInput, key: string): MigrationIncidentChange {
  const { appId, dependents, now, config, plans } = input;
  if (plans === undefined) {
    // While the pass waits for Entra's sign-in evidence it owns the wording: without evidence, only counts.
    if (input.current?.firing !== true || input.current.waiting) return { action: "keep", key };
    return { action: "raise", key, signal: migrationSignal(appId, input.byKey, dependents, now, config) };
  }
  const pending = pendingKeys(plans);
  const pendingPlans = plans.filter((p) => pending.has(p.keyId));
  const waitingUntil = pendingPlans.every((p) => p.verdict === "waiting")
    ? (pendingPlans
        .map((p) => p.deferredUntil)
        .filter((d): d is string => d !== null)
        .sort()[0] ?? null)
    : null;
  const byKey = input.byKey.filter((k) => pending.has(k.keyId));
  return {
    action: "raise",
    key,
    signal: migrationSignal(appId, byKey, dependents, now, config, waitingUntil),
  };
}
