/**
 * How urgent a credential is. One rule for "days left", used everywhere
 * (scan, alerts, rotation, health), so numbers never disagree:
 *
 *   days left = floor((endDateTime − now) / 24 h)
 *
 * A secret ending in 13 days 23 hours has 13 days left; one ending in 5 hours
 * has 0; one whose endDateTime has passed is expired (negative days left).
 * A credential with no endDateTime never expires.
 */
import { DAY_MS } from "../clock.js";
import type { Config } from "../config.js";

export type CredentialStatus = "expired" | "critical" | "rotation-due" | "ok";

export interface Thresholds {
  alertBeforeDays: number;
  rotateBeforeDays: number;
}

/** ALERT_BEFORE_DAYS and ROTATE_BEFORE_DAYS as one value, built the same way wherever a pass classifies. */
export function thresholdsOf(config: Pick<Config, "alerts" | "rotation">): Thresholds {
  return {
    alertBeforeDays: config.alerts.alertBeforeDays,
    rotateBeforeDays: config.rotation.rotateBeforeDays,
  };
}

/** Whole days until `end`, rounded down; null when there is no end. */
export function daysLeft(end: string | Date | null | undefined, now: Date): number | null {
  if (end === null || end === undefined) return null;
  const endMs = end instanceof Date ? end.getTime() : Date.parse(end);
  if (Number.isNaN(endMs)) return null;
  return Math.floor((endMs - now.getTime()) / DAY_MS);
}

export function isExpired(end: string | Date | null | undefined, now: Date): boolean {
  if (end === null || end === undefined) return false;
  const endMs = end instanceof Date ? end.getTime() : Date.parse(end);
  return !Number.isNaN(endMs) && endMs <= now.getTime();
}

/**
 * expired: endDateTime has passed · critical: days left ≤ ALERT_BEFORE_DAYS ·
 * rotation-due: days left ≤ ROTATE_BEFORE_DAYS · ok: otherwise.
 */
export function classify(end: string | Date | null | undefined, now: Date, t: Thresholds): CredentialStatus {
  if (isExpired(end, now)) return "expired";
  const left = daysLeft(end, now);
  if (left === null) return "ok";
  if (left <= t.alertBeforeDays) return "critical";
  if (left <= t.rotateBeforeDays) return "rotation-due";
  return "ok";
}

const ORDER: Record<CredentialStatus, number> = { expired: 0, critical: 1, "rotation-due": 2, ok: 3 };

/** The worse of two statuses. */
export function worst(a: CredentialStatus, b: CredentialStatus): CredentialStatus {
  return ORDER[a] <= ORDER[b] ? a : b;
}

/** Needs a human now: the scan's and run's "attention" exit code. */
export function needsAttention(status: CredentialStatus): boolean {
  return status === "expired" || status === "critical";
}
