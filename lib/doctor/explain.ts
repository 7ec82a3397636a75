/**
 * `watchdog doctor --explain "<error text>"`: the knowledge base. Recognises
 * the errors of the public support threads in `sources.ts` (and the Graph
 * errors rotation meets) in pasted text, and returns cause and steps in the
 * threads' own words. Pure: no configuration, no network.
 */
import type { CheckId } from "./check.js";
import { cite, sources } from "./sources.js";

export interface Explanation {
  /** Stable id, e.g. `nylas.45001`, `entra.7000215`. */
  id: string;
  title: string;
  cause: string;
  steps: string[];
  /** Doctor checks that diagnose this cause in a live setup. */
  checks: CheckId[];
  source: string;
}

interface Entry extends Explanation {
  match: RegExp;
  /** Not this entry when the text matches this (a more specific entry explains it). */
  unless?: RegExp;
}

/** A number on its own, not inside a longer number ("AADSTS7000215" still matches 7000215). */
const code = (n: number) => new RegExp(`(?<!\\d)${n}(?!\\d)`);
const any = (...patterns: RegExp[]) => new RegExp(patterns.map((p) => p.source).join("|"), "i");

const RESTART_OAUTH = `Have the user sign in again: “Since every request is unique and the OAuth code is a one-time credential, you must restart the entire OAuth process (re-authenticate the user) after any Azure configuration change” (${cite.nylasForum45001}).`;

const KNOWLEDGE: readonly Entry[] = [
  {
    id: "nylas.45001",
    title: "45001 — Provider refused to return refresh_token",
    match: any(code(45001), /refused to return refresh_token/, /provider_code_request_failed/),
    cause: `Microsoft refused Nylas the refresh token when Nylas redeemed the sign-in code. ${cite.nylasForum45001}: “Microsoft is rejecting our request for the permanent refresh token due to a synchronization failure” — there, a newly added scope (OnlineMeetings.ReadWrite) had no tenant-wide admin consent, and the connector held the secret's ID instead of its value (AADSTS7000215).`,
    steps: [
      "Verify client credentials: “In the Azure portal, ensure the Application (client) ID, the Client Secret Value, and the Redirect URI are entered exactly in Nylas for the correct region.” (`watchdog doctor --secret` tells whether a value is accepted.)",
      "Verify scopes & consent: “Ensure all required scopes (including OnlineMeetings.ReadWrite) are present in Azure, and Admin consent has been granted for all permissions.” “The Microsoft Admin must explicitly grant tenant-wide Admin Consent in Azure for the new … scope.”",
      "“Verify that the offline_access scope is included in your OAuth request, as it is required by Microsoft to issue the refresh token.”",
      RESTART_OAUTH,
    ],
    checks: ["scopes.required", "consent.admin", "secrets.live", "app.redirect-uri"],
    source: sources("nylasForum45001", "nylasAuthTroubleshooting"),
  },
  {
    id: "entra.7000215",
    title: "AADSTS7000215 — Invalid client secret provided",
    match: any(code(7000215), /invalid client secret/),
    cause: `Entra refused the client secret in the Nylas connector: it is not a secret of this app. Usually the secret's ID was pasted instead of its Value (${cite.nylasForum45001}); also when the secret was deleted from the app, or was created moments ago and has not propagated yet.`,
    steps: [
      "“Ensure the secret being sent in the request is the client secret value, not the client secret ID.”",
      "“In the Azure portal, the administrator must go to Certificates & secrets for the application” and “copy the Value field of the secret (which is only visible immediately after creation, not the Secret ID).”",
      "“If the original value was not saved, they must generate a new secret and update the Nylas connector with that correct Client Secret Value.”",
      "Check a candidate value before saving it: `watchdog doctor --secret` (reads it from stdin, never from the command line).",
      RESTART_OAUTH,
    ],
    checks: ["secrets.live"],
    source: sources("nylasForum45001", "entraErrors"),
  },
  {
    id: "entra.7000222",
    title: "AADSTS7000222 — the client secret has expired",
    match: any(
      code(7000222),
      /client secret keys .{0,80}are expired/,
      /client secret for your azure application has expired/,
      /InvalidClientSecretExpiredKeysProvided/,
    ),
    cause: `The Azure client secret behind the Nylas connector has expired. ${cite.nylasRenewSecret}: “When the old client secret expires, all accounts go invalid and require all users to re-authenticate their accounts.”`,
    steps: [
      "“Log in to the Azure portal” → Microsoft Entra ID → App registrations → your application → “Certificates & secrets” → “New client secret”; add a description and expiry; “Make a note of the value of the client secret - this is your new client secret.”",
      "“Update this new secret in the Nylas Dashboard”: dashboard-v3.nylas.com → your application → Connectors → Microsoft → update the Azure client secret with the new value → Save.",
      "“Connect an Office365 account and confirm they can reconnect - Note: it can take up to an hour.” Every user whose grant went invalid re-authenticates (`watchdog grants` lists them with links).",
      "Next time, rotate before expiry: “You can have two client secrets active within Azure at any time” — that is what `watchdog run` does.",
    ],
    checks: ["secrets.live"],
    source: sources("nylasRenewSecret", "entraErrors"),
  },
  {
    id: "entra.65001",
    title: "AADSTS65001 — consent missing (DelegationDoesNotExist)",
    match: any(code(65001), /DelegationDoesNotExist/, /consent_required/, /need(s)? admin approval/),
    cause: `The user, or an admin for the whole tenant, has not consented to the app for the requested permissions. ${cite.nylasAuthTroubleshooting}: “Some Microsoft 365 tenants require admin consent before users can authorize third-party apps.”`,
    steps: [
      "“If a user gets an error saying they need admin approval, the tenant admin needs to grant consent for your Azure app.”",
      `Azure portal → App registrations → your app → API permissions → “Grant admin consent”: “The Microsoft Admin must explicitly grant tenant-wide Admin Consent in Azure” for every scope the connector asks for (${cite.nylasForum45001}).`,
      RESTART_OAUTH,
    ],
    checks: ["consent.admin", "scopes.required"],
    source: sources("nylasAuthTroubleshooting", "nylasForum45001"),
  },
  {
    id: "entra.700016",
    title: "AADSTS700016 — application not found in the directory",
    match: any(code(700016), /UnauthorizedClient_DoesNotMatchRequest/, /was not found in the directory/),
    cause:
      "Entra has no app with that client ID in the tenant the sign-in went to: the connector's client_id is wrong, the sign-in went to the wrong tenant, or a single-tenant app was used by another organisation.",
    steps: [
      `“Ensure the Application (client) ID … [is] entered exactly in Nylas” (${cite.nylasForum45001}): compare App registrations → your app → Overview with the connector's client_id.`,
      `For users outside your organisation, the connector's tenant must be “common” (“Use tenant: "common" to allow authentication for accounts that are outside of your organization”) and the app's supported account types “Accounts in any organizational directory and personal Microsoft accounts” (${cite.nylasCreateAzureApp}).`,
      "For the watchdog itself, AZURE_TENANT_ID must be the tenant that owns the app registration.",
    ],
    checks: ["app.found", "connector.audience"],
    source: sources("nylasForum45001", "nylasCreateAzureApp", "entraErrors"),
  },
  {
    id: "entra.50011",
    title: "AADSTS50011 — redirect URI mismatch",
    match: any(code(50011), /InvalidReplyTo/, /redirect uri .{0,120}does not match/, /reply (url|address)/),
    cause:
      "The redirect URI of the sign-in is not registered on the app (or not under the Web platform, or for the other Nylas region).",
    steps: [
      `“Set the Redirect URI platform to Web and enter your redirect URI” (${cite.nylasCreateAzureApp}): https://api.us.nylas.com/v3/connect/callback for US applications, https://api.eu.nylas.com/v3/connect/callback for EU ones; with Custom auth, your own callback.`,
      `“Ensure … the Redirect URI [is] entered exactly … for the correct region” (${cite.nylasForum45001}).`,
    ],
    checks: ["app.redirect-uri", "nylas.region"],
    source: sources("nylasCreateAzureApp", "nylasForum45001", "entraErrors"),
  },
  {
    id: "oauth.invalid_grant",
    title: "invalid_grant / AADSTS54005 — code already redeemed, expired or mismatched",
    match: any(code(54005), /\binvalid_grant\b/, /already redeemed/),
    cause: `${cite.nylasAuthTroubleshooting}: “This error from Google or Microsoft typically means the authorization code was already used (OAuth codes are single-use), the code expired (they're valid for only a few minutes), or the redirect_uri in your token exchange doesn't match what was registered.” A grant's refresh token also goes invalid when the user's password changes, access is revoked, or the Azure secret it was authenticated with expires or is deleted.`,
    steps: [
      "Start the sign-in again to get a fresh code; never redeem a code twice.",
      "“Double-check your callback URI configuration in both your provider app and the Nylas Dashboard.”",
      `For a grant that went invalid: “prompt the user to re-authenticate” (${cite.nylasAuthTroubleshooting}); \`watchdog grants\` lists them with links.`,
    ],
    checks: ["app.redirect-uri", "secrets.live"],
    source: sources("nylasAuthTroubleshooting"),
  },
  {
    id: "nylas.401",
    title: "401 Unauthorized from Nylas — API key, grant, or wrong region",
    match: any(code(401), /\bunauthorized\b(?!_)/),
    unless: /AADSTS\d+|invalid_client/i,
    cause: `${cite.nylasAuthTroubleshooting}: “A 401 response means the request could not be authenticated”: an expired or invalid API key, a grant_id of another application, an expired access token, or a data residency mismatch — “If your Nylas application is provisioned in the EU region, use api.eu.nylas.com instead of api.us.nylas.com. Using the wrong regional endpoint always returns a 401.”`,
    steps: [
      "Run `watchdog doctor`: nylas.region tries the key in the other region and says which to use (NYLAS_API_URI=https://api.eu.nylas.com for EU applications).",
      "“Verify the key in the Nylas Dashboard under API Keys.”",
      "“Check that the grant_id you're passing belongs to the correct Nylas application and environment … Grant IDs are not portable across applications.”",
    ],
    checks: ["nylas.region"],
    source: sources("nylasAuthTroubleshooting", "nylasRegions"),
  },
  {
    id: "graph.403",
    title: "403 Authorization_RequestDenied from Microsoft Graph — the watchdog lacks permission",
    match: any(/Authorization_RequestDenied/, /Insufficient privileges to complete the operation/),
    cause:
      "The watchdog's own identity may not change (or read) the app registration: rotation needs Application.ReadWrite.OwnedBy plus ownership of the app, or Application.ReadWrite.All.",
    steps: [
      "Grant the watchdog's identity the Microsoft Graph application permission Application.ReadWrite.OwnedBy (an admin).",
      "Make the watchdog's identity an owner of the app registration (“Application.ReadWrite.OwnedBy isn't sufficient to add another owner”: an admin or an owner does it).",
      "Run `watchdog doctor`: app.permission names what is missing and the exact commands.",
    ],
    checks: ["app.permission"],
    source: sources("graphAddPassword", "graphOwners"),
  },
  {
    id: "nylas.403",
    title: "403 Forbidden from Nylas — the grant lacks a scope",
    match: any(code(403), /\bforbidden\b/, /insufficient.{0,30}scope/),
    unless: /Authorization_RequestDenied|Insufficient privileges/i,
    cause: `${cite.nylasAuthTroubleshooting}: “A 403 means the request was authenticated but the grant doesn't have permission to perform the action. This almost always means missing or insufficient OAuth scopes.” For Microsoft, sending needs Mail.ReadWrite on top of Mail.Send; and scopes added to the connector later are not in existing grants.`,
    steps: [
      "“Microsoft requires Mail.ReadWrite on top of Mail.Send to create and send messages via the Nylas API. Add Mail.ReadWrite to your connector's scope list, then have the affected user re-authenticate to issue a new grant with the updated scopes.”",
      "“Adding new scopes to a connector doesn't automatically update existing grants. Users need to go through the auth flow again to issue a grant with the new scopes.”",
      `Add each new scope to the Azure app (API permissions) and grant admin consent before users sign in again (${cite.nylasForum45001}).`,
    ],
    checks: ["scopes.required", "grants.scopes", "consent.admin"],
    source: sources("nylasAuthTroubleshooting", "nylasForum45001"),
  },
  {
    id: "nylas.grant.not_found",
    title: "grant.not_found — Nylas has no such grant",
    match: any(/grant\.not_found/, /grant not found/, /grant_not_found/),
    cause: `${cite.nylasAuthTroubleshooting}: “This error means Nylas can't find the grant for the grant_id you provided”: the grant was deleted (by hand, or automatically when the provider revoked the token), it belongs to another environment, or to the other region (“A grant created in the EU region (api.eu.nylas.com) won't be found if you query the US region”).`,
    steps: [
      "“Check the Nylas Dashboard to confirm the grant still exists under Grants.”",
      "“Make sure the grant_id and API key belong to the same Nylas application”; check NYLAS_API_URI is the application's region (`watchdog doctor`, nylas.region).",
      "If the provider revoked it, “the grant becomes invalid and the user must re-authenticate.”",
    ],
    checks: ["nylas.region"],
    source: sources("nylasAuthTroubleshooting"),
  },
  {
    id: "entra.v2-permissions",
    title: "“One or more of the following permission(s) are currently not supported” — a Nylas v2 Azure app",
    match: any(/currently not supported/, /EWS\.AccessAsUser\.All/, /EAS\.AccessAsUser\.All/),
    cause: `The Azure app was made for Nylas v2 (Exchange EWS/EAS permissions). ${cite.nylasCreateAzureApp}: “If you're upgrading from Nylas v2 to v3, you must create a new Azure auth app. Your v2 Azure app is not compatible with v3, and v3 apps aren't compatible with Nylas v2.”`,
    steps: [
      "Create a new app registration: audience “Accounts in any organizational directory and personal Microsoft accounts”, redirect URI platform Web with the Nylas v3 callback of your region.",
      "API permissions → Microsoft Graph → Delegated: offline_access, openid, profile, User.Read and what you use (“EWS- and EAS-related scopes have been removed”); grant admin consent.",
      "New client secret → copy its Value; put the new client ID and secret into the Nylas connector.",
      "“When you migrate your end users to the new auth app, they must re-authenticate their accounts and approve the app.”",
    ],
    checks: ["app.v2-leftovers"],
    source: sources("nylasCreateAzureApp", "nylasV2MicrosoftAuth"),
  },
  {
    id: "graph.TooManyAppPasswords",
    title: "TooManyAppPasswords — the app already has its maximum of client secrets",
    match: any(/TooManyAppPasswords/, /maximum of 2 passwords/),
    cause:
      "Apps whose supported account types include personal Microsoft accounts may hold at most 2 client secrets, so a new one cannot be added.",
    steps: [
      "Remove a secret nothing uses — an expired one, or one that is neither in the connector nor behind valid grants — in Certificates & secrets.",
      `${cite.nylasRenewSecret}: “You can have two client secrets active within Azure at any time.”`,
    ],
    checks: ["secrets.live"],
    source: sources("entraSecretLimits", "nylasRenewSecret"),
  },
  {
    id: "graph.CredentialInvalidLifetimeAsPerAppPolicy",
    title: "CredentialInvalidLifetimeAsPerAppPolicy — secret lifetime above the tenant's policy",
    match: any(/CredentialInvalidLifetimeAsPerAppPolicy/, /Credential lifetime exceeds the max value/),
    cause: "A tenant app management policy caps client secret lifetimes below SECRET_LIFETIME_DAYS.",
    steps: [
      "Lower SECRET_LIFETIME_DAYS to the policy's maxLifetime (Entra ID → app management policies), keeping it above ROTATE_BEFORE_DAYS.",
    ],
    checks: ["settings.sanity"],
    source: sources("graphPolicy"),
  },
];

/** Every error the knowledge base knows, by id and title (for "not recognised" help). */
export const KNOWN_ERRORS: readonly { id: string; title: string }[] = KNOWLEDGE.map(({ id, title }) => ({
  id,
  title,
}));

/** The explanations of every known error in `text`, in the order they appear in it. */
export function explainError(text: string): Explanation[] {
  const hits: { at: number; entry: Entry }[] = [];
  for (const entry of KNOWLEDGE) {
    const m = entry.match.exec(text);
    if (m === null) continue;
    if (entry.unless?.test(text)) continue;
    hits.push({ at: m.index, entry });
  }
  hits.sort((a, b) => a.at - b.at);
  return hits.map(({ entry: { match: _m, unless: _u, ...explanation } }) => explanation);
}

export function formatExplanations(explanations: readonly Explanation[]): string {
  const out: string[] = [];
  for (const e of explanations) {
    out.push(e.title, `  Cause: ${e.cause}`, "  Steps:");
    e.steps.forEach((step, i) => out.push(`    ${i + 1}. ${step}`));
    if (e.checks.length > 0) out.push(`  Doctor checks: ${e.checks.join(", ")} (run \`watchdog doctor\`)`);
    out.push(`  Source: ${e.source}`, "");
  }
  return out.join("\n");
}

export function formatNotRecognised(): string {
  return [
    "Not recognised. Known errors:",
    ...KNOWN_ERRORS.map((e) => `  - ${e.title}`),
    "Run `watchdog doctor` to check the whole setup.",
    "",
  ].join("\n");
}
