/**
 * What the connector is believed to hold, and whether its secret is due for
 * rotation, decided in one place from the key records and the app registration
 * as read (and the clock passed in). The pass, its attention flag and the
 * connector's expiry incidents all read the answer from here.
 */
import type { GraphApplication } from "../clients/graph.js";
import { classify, daysLeft, isExpired, type CredentialStatus, type Thresholds } from "../watch/classify.js";
import { FOREIGN, connectorCandidates, type KeyRecord } from "./records.js";

/** What the connector is believed to hold. */
export interface ConnectorKey {
  keyId: string;
  endDateTime: string | null;
  /** Recorded by the watchdog (installed), or assumed at adoption (foreign). */
  origin: "installed" | "ambiguous" | "adopted";
  /** False when the key is no longer on the app registration. */
  present: boolean;
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
export function governingEnd(keys: readonly ConnectorKey[], now: Date): string {
  const ends = keys
    .map((k) => (k.present && k.endDateTime !== null ? k.endDateTime : now.toISOString()))
    .sort();
  return ends[0] ?? now.toISOString();
}

/** How urgent one key the connector may hold is; a vanished key is as bad as an expired one. */
export function keyStatus(key: ConnectorKey, now: Date, thresholds: Thresholds): CredentialStatus {
  return classify(key.present ? key.endDateTime : now, now, thresholds);
}

export interface DueJudgement {
  /** Rotate this pass (unless ROTATION=off). */
  due: boolean;
  /** Why it is due, in the words the plan, the log and the summary use. */
  why: string;
  /** The governing expiry's status. */
  status: CredentialStatus;
  /** Days left on the governing expiry. */
  left: number | null;
}

/** Is the connector's secret due for rotation, and why: forced, vanished, or within ROTATE_BEFORE_DAYS. */
export function judgeDue(
  keys: readonly ConnectorKey[],
  now: Date,
  thresholds: Thresholds,
  options: { forceRotate?: boolean; forceReason?: string },
): DueJudgement {
  const end = governingEnd(keys, now);
  const status = classify(end, now, thresholds);
  const left = daysLeft(end, now);
  const vanished = keys.some((k) => !k.present);
  const due = options.forceRotate === true || vanished || status !== "ok";
  const why = options.forceRotate
    ? (options.forceReason ?? "--force-rotate")
    : vanished
      ? "the connector's secret is no longer on the app registration"
      : status === "expired"
        ? "the connector's secret has expired"
        : `the connector's secret expires in ${left} day(s) (ROTATE_BEFORE_DAYS ${thresholds.rotateBeforeDays})`;
  return { due, why, status, left };
}
