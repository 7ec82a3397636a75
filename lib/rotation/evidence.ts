/**
 * Evidence from Entra: when each of the connector app's secrets last signed
 * in, "across all flows" (beta report appCredentialSignInActivities). Nylas
 * refreshes each Microsoft grant's tokens about hourly with the secret that
 * grant uses, so a secret still in use keeps signing in, and one nobody uses
 * goes quiet.
 *
 * Silence is evidence only from a report that has shown it can see use: while
 * valid grants exist, some secret of the app must show a sign-in in the last
 * 24 h that is not the watchdog's own proof. Otherwise the report is "blind"
 * (a reporting delay, a report that does not cover these flows) and every
 * decision falls back to the conservative rules.
 */
import type { GraphClient } from "../clients/graph.js";
import { HOUR_MS, MINUTE_MS } from "../clock.js";
import { errorMessage } from "../errors.js";
import { FOREIGN, type KeyRecord } from "./records.js";

export type EvidenceMode =
  /** The report is readable and has shown it sees use: quiet means unused. */
  | "evidence"
  /** Readable, but it shows no use while grants exist: it cannot be trusted to show absence. */
  | "blind"
  /** Not readable (no permission, no licence, a cloud without the report). */
  | "unavailable";

export interface SignInReport {
  readable: boolean;
  /** keyId → last sign-in (ISO 8601), null = never. Absent keys: the report does not list them. */
  lastSignIn: Map<string, string | null>;
  /** Why it is unreadable (the Graph error), when it is. */
  error?: string;
}

export interface Evidence {
  mode: EvidenceMode;
  /** One line a person can act on: what the mode means and how to change it. */
  reason: string;
  lastSignIn: Map<string, string | null>;
}

/** Nylas refreshes Microsoft tokens about hourly: a day without any refresh while grants exist is not believable. */
const TRUST_WINDOW_MS = 24 * HOUR_MS;
/** Sign-ins within this long after the watchdog's proof of a key may be the proof itself. */
const PROOF_SLACK_MS = 10 * MINUTE_MS;

export const ENABLE_EVIDENCE =
  'Grant the watchdog\'s identity the Microsoft Graph application permission AuditLog.Read.All (Microsoft Learn: "List appCredentialSignInActivities", https://learn.microsoft.com/en-us/graph/api/reportroot-list-appcredentialsigninactivities?view=graph-rest-beta); the report needs a Microsoft Entra ID P1 or P2 licence.';

export async function readSignInReport(graph: GraphClient, appId: string): Promise<SignInReport> {
  try {
    const rows = await graph.listCredentialSignIns(appId);
    return {
      readable: true,
      lastSignIn: new Map(rows.map((r) => [r.keyId, r.lastSignInDateTime])),
    };
  } catch (error) {
    // 403 (no permission or licence), 400/404 (no such report in this cloud): fall back. Anything else
    // (throttling, an outage) also only means "no evidence this pass" — never a reason to act.
    return {
      readable: false,
      lastSignIn: new Map(),
      error: errorMessage(error),
    };
  }
}

/** The last sign-in of a key if it is not the watchdog's own proof of it (within PROOF_SLACK_MS), else null. */
export function useAfterProof(record: KeyRecord | undefined, last: string | null | undefined): string | null {
  if (last === null || last === undefined) return null;
  const proven = record?.provenAt === undefined ? undefined : Date.parse(record.provenAt);
  if (proven !== undefined && Date.parse(last) <= proven + PROOF_SLACK_MS) return null;
  return last;
}

/** Decides whether the report's silence can be trusted this pass. */
export function judgeEvidence(
  report: SignInReport,
  records: readonly KeyRecord[],
  validGrants: number | undefined,
  now: Date,
): Evidence {
  if (!report.readable) {
    return {
      mode: "unavailable",
      reason: `Entra's per-credential sign-in report is not readable (${report.error ?? "unknown"}): the conservative rules apply. ${ENABLE_EVIDENCE}`,
      lastSignIn: report.lastSignIn,
    };
  }
  if (validGrants === 0) {
    return {
      mode: "evidence",
      reason: "No valid grant exists: nothing can depend on a superseded secret.",
      lastSignIn: report.lastSignIn,
    };
  }
  const byId = new Map(records.map((r) => [r.keyId, r]));
  const seesUse = [...report.lastSignIn].some(([keyId, last]) => {
    const use = useAfterProof(byId.get(keyId), last);
    return use !== null && now.getTime() - Date.parse(use) <= TRUST_WINDOW_MS;
  });
  if (!seesUse) {
    return {
      mode: "blind",
      reason:
        "Entra's sign-in report shows no use of any of the app's secrets in the last 24 h while valid grants exist (Nylas refreshes them about hourly): it cannot see this use, so its silence proves nothing and the conservative rules apply.",
      lastSignIn: report.lastSignIn,
    };
  }
  return {
    mode: "evidence",
    reason: "Entra's per-credential sign-in report is readable and shows the secrets in use.",
    lastSignIn: report.lastSignIn,
  };
}

/**
 * The last sign-in of a tracked key, not counting the watchdog's own proof;
 * for the foreign pseudo-record, the latest among the keys this installation
 * did not make.
 */
export function lastUse(record: KeyRecord, records: readonly KeyRecord[], evidence: Evidence): string | null {
  if (record.keyId !== FOREIGN) return useAfterProof(record, evidence.lastSignIn.get(record.keyId));
  const ours = new Set(records.map((r) => r.keyId));
  let latest: string | null = null;
  for (const [keyId, last] of evidence.lastSignIn) {
    if (ours.has(keyId) || last === null) continue;
    if (latest === null || last > latest) latest = last;
  }
  return latest;
}
