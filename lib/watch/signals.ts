/**
 * The incidents a watched app's credentials raise (WATCH_APP_IDS: alert only,
 * never rotated), built in one place so every pass raises the very same one.
 */
import type { Signal } from "../incidents/incident.js";
import type { CredentialReport, ScanProblem } from "./scan.js";

/**
 * Expiry incidents this pass no longer raised (a rotated secret, a removed one) are resolved with
 * this note: what this pass found, not a guess at what someone did.
 */
export const STALE_EXPIRY = {
  kind: "secret.expiring",
  note: "This pass finds the secret no longer on the app, or no longer expiring within ALERT_BEFORE_DAYS: nothing is about to expire.",
} as const;

export function expiringSignal(r: CredentialReport, role: "watched"): Signal {
  const what = r.type === "password" ? "client secret" : "certificate";
  return {
    key: `secret.expiring:${r.appId}:${r.keyId}`,
    kind: "secret.expiring",
    severity: "critical",
    summary: `${r.appDisplayName ?? r.appId}: ${what} ${r.keyId.slice(0, 8)} ${r.status === "expired" ? "has expired" : `expires in ${r.daysLeft} day(s)`}`,
    details: {
      app_id: r.appId,
      key_id: r.keyId,
      role,
      type: r.type,
      ends: r.endDateTime,
      days_left: r.daysLeft,
    },
    remediation: [
      `Create a new ${what} for app ${r.appId}, move whatever uses this one to it, then delete the old one (WATCH_APP_IDS apps are watched, never rotated).`,
    ],
    links: [],
  };
}

/** A watched app that could not be read: its secrets are not watched until it can be again. */
export function unreadableSignal(problem: ScanProblem & { appId: string }): Signal {
  return {
    key: `watch.unreadable:${problem.appId}`,
    kind: "watch.unreadable",
    severity: "warning",
    summary: problem.message,
    details: { app_id: problem.appId, code: problem.code },
    remediation: [problem.fix],
    links: [],
  };
}

export const READABLE_AGAIN = {
  kind: "watch.unreadable",
  note: "The watched app can be read again: its secrets are watched again.",
} as const;
