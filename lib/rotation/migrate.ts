/**
 * Migration: a Nylas grant keeps the secret it was authenticated with (seed
 * 001: changing the connector's secret "will not affect existing connected
 * accounts"; when the old secret expires, those accounts go invalid). So after
 * a switch, every valid Microsoft grant last authenticated (`updated_at`) while
 * a superseded key may have been in the connector still depends on it, until
 * its user signs in again.
 */
import type { NylasGrant } from "../clients/nylas.js";
import type { Config } from "../config.js";
import { DAY_MS } from "../clock.js";
import type { Signal } from "../incidents/incident.js";
import { reauthLink } from "../microsoft/reauth-link.js";
import { daysLeft } from "../watch/classify.js";
import { FOREIGN, dependencies, type KeyRecord } from "./records.js";

/**
 * Without evidence, how long after a switch a sign-in still counts as on the
 * old secret: Nylas' renewal article says a new connector secret "can take up
 * to an hour" (SWITCH_MARGIN_MINUTES, default 60).
 */
export const DEFAULT_SWITCH_MARGIN_SECONDS = 60 * 60;

export interface Dependency {
  record: KeyRecord;
  /** Unix seconds; null = since forever (foreign secrets). */
  from: number | null;
  /** Unix seconds (exclusive, plus the margin). */
  until: number;
}

export function dependencyWindows(
  records: readonly KeyRecord[],
  marginSeconds = DEFAULT_SWITCH_MARGIN_SECONDS,
): Dependency[] {
  return dependencies(records)
    .filter((r) => r.supersededAt !== undefined)
    .map((record) => ({
      record,
      from: record.windowStart === null ? null : Math.floor(Date.parse(record.windowStart) / 1000),
      until: Math.floor(Date.parse(record.supersededAt!) / 1000) + marginSeconds,
    }));
}

/**
 * Nylas credentials that only superseded keys were installed under: a grant
 * still reporting one of them as its `credential_id` depends on that key
 * whatever its `updated_at` says. Empty when Nylas kept one credential id
 * across switches (it then tells nothing).
 */
function staleCredentialIds(records: readonly KeyRecord[]): Map<string, string> {
  const current = new Set(
    records
      .filter((r) => r.state === "installed" && r.activeCredentialId !== undefined)
      .map((r) => r.activeCredentialId!),
  );
  const out = new Map<string, string>();
  for (const r of dependencies(records)) {
    if (r.activeCredentialId !== undefined && !current.has(r.activeCredentialId))
      out.set(r.activeCredentialId, r.keyId);
  }
  return out;
}

export interface DependentGrant {
  grant: NylasGrant;
  /** The keys it may be on (more than one only after an ambiguous switch). */
  keyIds: string[];
  /** The rotations whose switch left it behind: one re-auth request per (rotation, grant). */
  rotationIds: string[];
  /** When it stops working unless its user signs in again: the earliest expiry among its keys. */
  deadline: string | null;
}

export interface KeyDependents {
  keyId: string;
  rotationId: string;
  count: number;
  endDateTime: string | null;
}

/** Streams grants through; remembers only counts per key. */
export class MigrationTracker {
  readonly #windows: Dependency[];
  readonly #counts = new Map<string, number>();
  readonly #staleCredentials: Map<string, string>;
  total = 0;

  constructor(windows: Dependency[], records: readonly KeyRecord[] = []) {
    this.#windows = windows;
    this.#staleCredentials = staleCredentialIds(records);
    for (const w of windows) this.#counts.set(w.record.keyId, 0);
  }

  get active(): boolean {
    return this.#windows.length > 0;
  }

  /** The grant's dependency on superseded keys, if any. Only valid Microsoft grants can depend. */
  consider(grant: NylasGrant): DependentGrant | undefined {
    if (grant.provider !== "microsoft" || grant.grantStatus !== "valid") return undefined;
    const staleKey =
      grant.credentialId === undefined ? undefined : this.#staleCredentials.get(grant.credentialId);
    const hits = this.#windows.filter(
      (w) =>
        ((w.from === null || grant.updatedAt >= w.from) && grant.updatedAt < w.until) ||
        w.record.keyId === staleKey,
    );
    if (hits.length === 0) return undefined;
    this.total++;
    for (const h of hits) this.#counts.set(h.record.keyId, (this.#counts.get(h.record.keyId) ?? 0) + 1);
    const ends = hits
      .map((h) => h.record.endDateTime)
      .filter((e): e is string => e !== null)
      .sort();
    return {
      grant,
      keyIds: hits.map((h) => h.record.keyId),
      rotationIds: [...new Set(hits.map((h) => h.record.supersededBy ?? h.record.rotationId))],
      deadline: ends[0] ?? null,
    };
  }

  /** The rotations whose switch left `dep` behind on one of `keyIds`: one request per (rotation, grant). */
  rotationIdsFor(dep: DependentGrant, keyIds: ReadonlySet<string>): string[] {
    const out = new Set<string>();
    for (const w of this.#windows)
      if (dep.keyIds.includes(w.record.keyId) && keyIds.has(w.record.keyId))
        out.add(w.record.supersededBy ?? w.record.rotationId);
    return [...out];
  }

  byKey(): KeyDependents[] {
    return this.#windows.map((w) => ({
      keyId: w.record.keyId,
      rotationId: w.record.supersededBy ?? w.record.rotationId,
      count: this.#counts.get(w.record.keyId) ?? 0,
      endDateTime: w.record.endDateTime,
    }));
  }

  countFor(keyId: string): number {
    return this.#counts.get(keyId) ?? 0;
  }
}

export function migrationIncidentKey(appId: string): string {
  return `secret.migration:${appId}`;
}

/** The migration incident while grants remain on a superseded secret: warning, critical within ALERT_BEFORE_DAYS. */
export function migrationSignal(
  appId: string,
  byKey: readonly KeyDependents[],
  total: number,
  now: Date,
  config: Config,
  /** With sign-in evidence, before REAUTH_DEFER_HOURS: nobody has been asked yet; the report decides then. */
  waitingUntil: string | null = null,
): Signal {
  const pending = byKey.filter((k) => k.count > 0);
  const deadline =
    pending
      .map((k) => k.endDateTime)
      .filter((e): e is string => e !== null)
      .sort()[0] ?? null;
  const left = daysLeft(deadline, now);
  const critical = left !== null && left <= config.alerts.alertBeforeDays;
  const describe = (k: KeyDependents) =>
    `${k.count} on ${k.keyId === FOREIGN ? "the secret(s) in use before the watchdog took over" : `secret ${k.keyId}`} (expires ${k.endDateTime ?? "never"})`;
  return {
    key: migrationIncidentKey(appId),
    kind: "secret.migration",
    severity: critical ? "critical" : "warning",
    summary:
      waitingUntil === null
        ? `${total} Microsoft user(s) still on a superseded client secret${left === null ? "" : ` that expires in ${left} day(s)`}: they must sign in again before then`
        : `${total} Microsoft user(s) may still be on a superseded client secret${left === null ? "" : ` that expires in ${left} day(s)`}: nobody has been asked yet; Entra's sign-in report decides at ${waitingUntil} whether they must sign in again`,
    details: {
      app_id: appId,
      grants_on_old_secret: total,
      deadline,
      days_left: left,
      by_secret: pending.map(describe).join("; "),
      waiting_until: waitingUntil,
    },
    remediation: [
      waitingUntil === null
        ? "Each of these users was sent a grant.reauth_requested event (generic webhook) with their re-authentication link: make sure your application emails it to them."
        : `Nothing to do yet. Nylas may move these grants to the new secret by itself; if Entra still sees the old secret in use at ${waitingUntil} (REAUTH_DEFER_HOURS), each of these users is sent a grant.reauth_requested event with their link.`,
      "List them with `watchdog grants`; each line has the user's link.",
      "Users who sign in again move to the new secret automatically; the old secret is removed once none remain.",
      critical
        ? "Time is short: after the deadline these grants go invalid and those users must reconnect from scratch."
        : `You will be paged as critical ${config.alerts.alertBeforeDays} days before the deadline if users remain.`,
    ],
    links: [],
  };
}

/** The re-auth request for one dependent grant. */
export function reauthAnnouncement(
  dep: DependentGrant,
  rotationId: string,
  nylas: Config["nylas"],
  now: Date,
) {
  const email = dep.grant.email ?? dep.grant.id;
  const url = reauthLink(nylas, dep.grant.email);
  const left = daysLeft(dep.deadline, now);
  return {
    event: "grant.reauth_requested" as const,
    idempotencyKey: `reauth:${rotationId}:${dep.grant.id}`,
    severity: "info" as const,
    summary: `Please ask ${email} to sign in again${left === null ? "" : ` within ${left} day(s)`}: their grant uses a client secret being retired`,
    details: {
      grant_id: dep.grant.id,
      email: dep.grant.email ?? null,
      rotation_id: rotationId,
      deadline: dep.deadline,
    },
    grant: {
      grantId: dep.grant.id,
      email,
      deadline: dep.deadline ?? new Date(now.getTime() + 365 * DAY_MS).toISOString(),
      ...(url ? { reauthUrl: url } : {}),
    },
    ...(url ? { links: [{ title: `Re-authenticate ${email}`, url }] } : {}),
  };
}
