/**
 * What is known of a grant → what happens to its incident, and in which words.
 * The one decision the webhook, the sweep and the watchdog pass all ask, so a
 * grant's history leaves the same incident and the same note whichever path
 * saw it. Pure: it returns the change; the caller makes it.
 */
import type { Config } from "../config.js";
import type { Signal } from "../incidents/incident.js";
import type { NylasGrant } from "../clients/nylas.js";
import { grantIncidentKey, invalidGrantSignal, type GrantObserver } from "./grant-signals.js";

/** Nylas has no such grant: deleted (by hand, by a `grant.deleted`, or by the provider revoking it). */
export const GONE = "gone";

export interface GrantState {
  grantId: string;
  /** Nylas's `grant_status` now ("valid", "invalid"), or GONE. */
  status: string;
  email: string | undefined;
  provider: string;
  /** Unix seconds: when it last worked (Nylas `updated_at` / `grant_updated_at`). */
  updatedAt: number | undefined;
}

export interface GrantStateInput {
  grant: GrantState;
  /** Its incident is firing now (undefined: not read, which a failure report does not need). */
  open: boolean | undefined;
  /**
   * This observation is itself a report of the failure (a listing that shows the grant invalid, a
   * `grant.expired` Nylas did not contradict): it opens the incident, or refreshes it so repeats go out.
   * A look-up that only re-checks an open incident resolves it or leaves it as it is.
   */
  reportsFailure: boolean;
  seenBy: GrantObserver;
  /** A connector-app secret that expired recently, if the last watchdog pass saw one: named as the cause. */
  recentlyExpiredSecret?: { keyId: string; endDateTime: string } | undefined;
}

export type GrantChange =
  | { action: "raise"; key: string; signal: Signal }
  | { action: "resolve"; key: string; note: string }
  | { action: "none"; key: string; why: "still-invalid" | "not-open" };

/** What Nylas answered for `grantId` (undefined: it has no such grant), as the decision reads it. */
export function grantStateOf(grantId: string, grant: NylasGrant | undefined): GrantState {
  if (grant === undefined)
    return { grantId, status: GONE, email: undefined, provider: "unknown", updatedAt: undefined };
  return {
    grantId,
    status: grant.grantStatus,
    email: grant.email,
    provider: grant.provider,
    updatedAt: grant.updatedAt,
  };
}

/** The resolve notes say what is true now. */
export const GONE_NOTE =
  "The grant was deleted: it no longer exists in Nylas, so it can no longer fail; nothing left to do.";

export function validAgainNote(grant: Pick<GrantState, "grantId" | "email">): string {
  return `${grant.email ?? grant.grantId} re-authenticated; Nylas reports the grant valid.`;
}

export function decideGrantState(input: GrantStateInput, nylas: Config["nylas"]): GrantChange {
  const { grant } = input;
  const key = grantIncidentKey(grant.grantId);
  if (grant.status === "invalid" && input.reportsFailure) {
    const signal = invalidGrantSignal(
      {
        grantId: grant.grantId,
        email: grant.email,
        provider: grant.provider,
        lastWorkedAt: grant.updatedAt,
        recentlyExpiredSecret: input.recentlyExpiredSecret,
        seenBy: input.seenBy,
      },
      nylas,
    );
    return { action: "raise", key, signal };
  }
  if (input.open !== true) return { action: "none", key, why: "not-open" };
  if (grant.status === GONE) return { action: "resolve", key, note: GONE_NOTE };
  if (grant.status === "valid") return { action: "resolve", key, note: validAgainNote(grant) };
  return { action: "none", key, why: "still-invalid" };
}
