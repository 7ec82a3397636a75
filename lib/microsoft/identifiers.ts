/**
 * Microsoft identifiers and scope rules doctor reasons with. The GUIDs are the
 * same in every tenant (Microsoft's published permission ids); names are
 * resolved through the tenant's own service principals first, these are the
 * fallback when a service principal cannot be read.
 */

/** Microsoft Graph's appId. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
/** Office 365 Exchange Online's appId (where EWS permissions of v2-era apps live). */
export const EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000";

/** Graph application permissions that let the watchdog rotate a secret. */
export const ROLE_OWNED_BY = "Application.ReadWrite.OwnedBy";
export const ROLE_ALL = "Application.ReadWrite.All";
export const ROLE_IDS: Readonly<Record<string, string>> = {
  [ROLE_OWNED_BY]: "18a4783c-866b-4cc7-a460-3d5e5662c884",
  [ROLE_ALL]: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
  "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
};

/** Scopes Nylas docs, "Create an Azure auth app for Nylas v3", mark required for every Microsoft connector. */
export const REQUIRED_SCOPES = ["offline_access", "openid", "profile", "User.Read"] as const;

/**
 * OpenID Connect scopes: Microsoft often leaves them out of the scope it
 * reports for a token, so grants are not judged on them.
 */
export const OIDC_SCOPES = new Set(["offline_access", "openid", "profile", "email"]);

/** Delegated permissions of Nylas v2 (Exchange) apps, unsupported in v3 apps (Nylas docs, "Create an Azure auth app for Nylas v3"). */
export const LEGACY_SCOPES = new Set(["ews.accessasuser.all", "eas.accessasuser.all"]);

/** Fallback names for permission ids a v2-era app may carry (Graph and Exchange Online). */
export const KNOWN_SCOPE_IDS: Readonly<Record<string, string>> = {
  "9769c687-087d-48ac-9cb3-c37dde652038": "EWS.AccessAsUser.All",
  "ff91d191-45a0-43fd-b837-bd682c4a0b0f": "EAS.AccessAsUser.All",
  "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5": "EWS.AccessAsUser.All",
};

/**
 * The comparable form of a scope: Microsoft scopes are case-insensitive, and a
 * connector may name Graph scopes by full URI (`https://graph.microsoft.com/Mail.Read`).
 */
export function scopeKey(scope: string): string {
  return scope
    .trim()
    .replace(/^https:\/\/graph\.microsoft\.(com|us)\//i, "")
    .replace(/^https:\/\/dod-graph\.microsoft\.us\//i, "")
    .replace(/^https:\/\/microsoftgraph\.chinacloudapi\.cn\//i, "")
    .toLowerCase();
}

/** Scopes of `wanted` whose key is not among `have`, in `wanted`'s order and spelling. */
export function missingScopes(wanted: readonly string[], have: Iterable<string>): string[] {
  const keys = new Set([...have].map(scopeKey));
  const seen = new Set<string>();
  return wanted.filter((s) => {
    const k = scopeKey(s);
    if (keys.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Whether a scope string names a Microsoft Graph (not another API's) scope. */
export function isGraphScope(scope: string): boolean {
  const s = scope.trim();
  return !/^[a-z]+:\/\//i.test(s) || /^https:\/\/(graph\.microsoft\.|dod-graph\.|microsoftgraph\.)/i.test(s);
}
