/**
 * What an invalid grant means and what to do about it, drawn from the seeds:
 * an expired client secret (every Microsoft user at once, "The client secret
 * for your Azure application has expired"), a password change or revoked
 * consent (one user), scopes changed after the grant was made (45001 on
 * re-auth until an admin consents). One place builds the incident, so the
 * webhook and the sweep raise the very same one.
 */
import type { Config } from "../config.js";
import type { Signal } from "../incidents/incident.js";
import { reauthLink } from "../microsoft/reauth-link.js";

export interface InvalidGrantFacts {
  grantId: string;
  email: string | undefined;
  provider: string;
  /** Unix seconds: when it last worked (Nylas `grant_updated_at` / `updated_at`). */
  lastWorkedAt: number | undefined;
  /** A connector-app secret that expired recently, if the last watch pass saw one. */
  recentlyExpiredSecret?: { keyId: string; endDateTime: string } | undefined;
  /** Which path saw it: for the details, not the key. */
  seenBy: GrantObserver;
}

export type GrantObserver = "webhook" | "sweep" | "pass";

const KEY_PREFIX = "grant.invalid:";

export function grantIncidentKey(grantId: string): string {
  return `${KEY_PREFIX}${grantId}`;
}

/** The grant id in a key `grantIncidentKey` built; undefined for any other key. */
export function grantIdOfIncidentKey(key: string): string | undefined {
  return key.startsWith(KEY_PREFIX) && key.length > KEY_PREFIX.length
    ? key.slice(KEY_PREFIX.length)
    : undefined;
}

function iso(unixSeconds: number | undefined): string | null {
  return unixSeconds === undefined ? null : new Date(unixSeconds * 1000).toISOString();
}

export function invalidGrantSignal(facts: InvalidGrantFacts, nylas: Config["nylas"]): Signal {
  const who = facts.email ?? facts.grantId;
  const link = facts.provider === "microsoft" ? reauthLink(nylas, facts.email) : undefined;
  const causes: string[] = [];
  if (facts.recentlyExpiredSecret !== undefined) {
    causes.push(
      `The Azure client secret ${facts.recentlyExpiredSecret.keyId} expired at ${facts.recentlyExpiredSecret.endDateTime}: every Microsoft grant authenticated with it goes invalid (AADSTS7000222). Put a live secret in the Nylas connector (watchdog run --force-rotate) and have users sign in again.`,
    );
  }
  causes.push(
    "The user changed their password, or they or an admin revoked the app's consent (invalid_grant): only this user is affected.",
    "Scopes were added to the connector after this grant was created: the user must sign in again, and an admin may first need to grant consent for the new scopes (45001 'Provider refused to return refresh_token').",
  );
  const remediation = [
    link
      ? `Ask ${who} to sign in again with the re-authentication link (login_hint is their email; the grant id stays the same).`
      : `Ask ${who} to sign in again through your application's Microsoft sign-in (set NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI to get a ready link here).`,
    "If many Microsoft grants go invalid at once, check the connector's client secret: `watchdog scan` and `watchdog doctor`.",
    "If re-authentication fails with 45001, grant tenant-wide admin consent for the connector's scopes and make sure offline_access is among them (`watchdog doctor`).",
  ];
  return {
    key: grantIncidentKey(facts.grantId),
    kind: "grant.invalid",
    severity: "critical",
    summary: `Nylas grant for ${who} (${facts.provider}) is invalid: the user must re-authenticate`,
    details: {
      grant_id: facts.grantId,
      email: facts.email ?? null,
      provider: facts.provider,
      last_worked_at: iso(facts.lastWorkedAt),
      seen_by: facts.seenBy,
      likely_causes: causes.map((c, i) => `${i + 1}. ${c}`).join(" "),
    },
    remediation,
    links: link ? [{ title: `Re-authenticate ${who}`, url: link }] : [],
  };
}
