/**
 * Where doctor's advice comes from: the support threads the product was built
 * from (`../shared/seeds/`) and the documentation they and the reference notes
 * cite. A check names one or more of these as its `source`.
 */
export const SOURCES = {
  seed000:
    'seed 000 — Nylas forum "Nylas Microsoft Provider, 45001 error code" (45001 after adding OnlineMeetings.ReadWrite; AADSTS7000215)',
  seed001: 'seed 001 — Nylas support "How to Renew Microsoft Azure Client Secret for Your Nylas Application"',
  seed002: 'seed 002 — Nylas docs "Create an Azure auth app for Nylas v3"',
  seed003:
    "seed 003 — Nylas docs, v3 authentication troubleshooting (401, 403, grant.not_found, invalid_grant)",
  seed004: 'seed 004 — Nylas v2 docs "Microsoft Authentication" (EWS/EAS, v2 hosted auth)',
  nylasRegions:
    "Nylas API servers: US https://api.us.nylas.com, EU https://api.eu.nylas.com (developer.nylas.com/docs/v3/auth/troubleshooting)",
  nylasWebhooks:
    "Nylas webhooks: failing/failed states, no automatic reactivation (developer.nylas.com, Webhook Notifications)",
  graphAddPassword:
    "Microsoft Graph application: addPassword — permissions Application.ReadWrite.OwnedBy (owner) or Application.ReadWrite.All (learn.microsoft.com/graph/api/application-addpassword)",
  graphOwners:
    "Microsoft Graph application: add owner (learn.microsoft.com/graph/api/application-post-owners)",
  entraErrors:
    "Microsoft Entra AADSTS error codes (learn.microsoft.com/entra/identity-platform/reference-error-codes)",
  entraSecretLimits:
    "Microsoft Entra supported account types: at most 2 client secrets for apps that allow personal accounts (learn.microsoft.com/entra/identity-platform/supported-accounts-validation)",
  graphPolicy:
    "Microsoft Graph app management policy: CredentialInvalidLifetimeAsPerAppPolicy (learn.microsoft.com/graph/api/resources/passwordcredentialconfiguration)",
  contract: 'secret-watchdog README, "Settings"',
} as const;

export type SourceKey = keyof typeof SOURCES;

/** Joins several sources into one `source` string. */
export function sources(...keys: SourceKey[]): string {
  return keys.map((k) => SOURCES[k]).join("; ");
}
