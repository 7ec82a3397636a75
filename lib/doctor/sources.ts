/**
 * Where doctor's advice comes from: the public support threads and articles
 * the product was built from, and the documentation they and the reference
 * notes cite. A check names one or more of these as its `source`; advice that
 * quotes a page names it with `cite`. Only public pages, by title and URL: a
 * user of the watchdog has nothing else to look at.
 */

/** A public page doctor quotes. */
interface Page {
  /** Who published it, e.g. "Nylas docs". */
  site: string;
  title: string;
  url: string;
}

const PAGES = {
  nylasForum45001: {
    site: "Nylas forum",
    title: "Nylas Microsoft Provider, 45001 error code",
    url: "https://forums.nylas.com/t/nylas-microsoft-provider-45001-error-code/986",
  },
  nylasRenewSecret: {
    site: "Nylas support",
    title: "How to Renew Microsoft Azure Client Secret for Your Nylas Application",
    url: "https://support.nylas.com/hc/en-us/articles/11833396105757-How-to-Renew-Microsoft-Azure-Client-Secret-for-Your-Nylas-Application",
  },
  nylasCreateAzureApp: {
    site: "Nylas docs",
    title: "Create an Azure auth app for Nylas v3",
    url: "https://developer.nylas.com/docs/dev-guide/provider-guides/microsoft/create-azure-app/",
  },
  nylasAuthTroubleshooting: {
    site: "Nylas docs",
    title: "Troubleshoot authentication errors",
    url: "https://developer.nylas.com/docs/v3/auth/troubleshooting/",
  },
  nylasV2MicrosoftAuth: {
    site: "Nylas v2 docs",
    title: "Microsoft Authentication",
    url: "https://developer.nylas.com/docs/developer-guide/provider-guides/microsoft/microsoft-authentication/",
  },
} as const satisfies Record<string, Page>;

type PageKey = keyof typeof PAGES;

const cited = (p: Page) => `${p.site}, “${p.title}”`;
const listed = (p: Page) => `${p.site}: "${p.title}" (${p.url})`;

/** How advice text names a page it quotes, e.g. `Nylas docs, “Create an Azure auth app for Nylas v3”`. */
export const cite = Object.fromEntries(
  Object.entries(PAGES).map(([key, page]) => [key, cited(page)]),
) as Record<PageKey, string>;

export const SOURCES = {
  nylasForum45001: listed(PAGES.nylasForum45001),
  nylasRenewSecret: listed(PAGES.nylasRenewSecret),
  nylasCreateAzureApp: listed(PAGES.nylasCreateAzureApp),
  nylasAuthTroubleshooting: listed(PAGES.nylasAuthTroubleshooting),
  nylasV2MicrosoftAuth: listed(PAGES.nylasV2MicrosoftAuth),
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
