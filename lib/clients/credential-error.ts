/**
 * Tells the watchdog's own identity failing (a setting to fix: exit 2) apart from Entra or Graph
 * failing (exit 3). The Graph SDK keeps only an @azure/identity error's name (as `code`) and its
 * message, so the text is what is read, as entra-token.ts reads Entra's refusals. Connector secrets
 * are checked by entra-token.ts and never throw: a refusal seen here is always the watchdog's own.
 */
import { CredentialError, errorMessage, type CredentialProblem } from "../errors.js";

/** Errors @azure/identity throws when no token could be had. */
export const TOKEN_ERRORS: ReadonlySet<string> = new Set([
  "AuthenticationError",
  "AggregateAuthenticationError",
  "CredentialUnavailableError",
  "AuthenticationRequiredError",
]);

/** How much of the SDK's text rides along for the debug log. */
const MAX_DETAIL_CHARS = 4_000;

interface Refusal {
  problem: CredentialProblem;
  what: string;
  fix: string;
}

const APP_PAGE = "Entra ID → App registrations → the app AZURE_CLIENT_ID names";

/** Entra's refusals of the watchdog's own request (https://learn.microsoft.com/entra/identity-platform/reference-error-codes). */
const REFUSALS: Record<string, Refusal> = {
  "7000215": {
    problem: "invalid-secret",
    what: "invalid client secret",
    fix: `Set AZURE_CLIENT_SECRET to the secret's Value, not its Secret ID (${APP_PAGE} → Certificates & secrets). The Value is shown only when a secret is created: if it is lost, create a new secret.`,
  },
  "7000222": {
    problem: "expired-secret",
    what: "the client secret has expired",
    fix: `Create a new client secret for the watchdog's app (${APP_PAGE} → Certificates & secrets → New client secret) and set AZURE_CLIENT_SECRET to its Value.`,
  },
  "700016": {
    problem: "unknown-app",
    what: "no such application in this tenant",
    fix: "Check the AZURE_CLIENT_ID / AZURE_TENANT_ID pair: AZURE_CLIENT_ID must be the watchdog's Application (client) ID and AZURE_TENANT_ID the Directory (tenant) ID it is registered in (both on the app registration's Overview page).",
  },
};

const NO_CREDENTIAL =
  "No credential for the watchdog's own identity: AZURE_CLIENT_SECRET is not set, and no managed identity or Azure CLI login was found. " +
  "Fix: set AZURE_CLIENT_ID/AZURE_CLIENT_SECRET (the watchdog's app registration and a secret's Value), or `az login` on this machine; " +
  "in Azure, turn on the Function App's managed identity. Run again with --verbose to see why each credential was unavailable.";

/** The identity error's name: the Graph SDK moves it to `code`. */
function tokenErrorName(error: unknown): string | undefined {
  const e = error as { code?: unknown; name?: unknown } | null;
  return [e?.code, e?.name].find((n): n is string => typeof n === "string" && TOKEN_ERRORS.has(n));
}

/**
 * The CredentialError a token failure means, or undefined when it is something else (Entra
 * unreachable or throttling, a refusal no setting of ours explains): those stay HttpErrors.
 */
export function credentialErrorOf(error: unknown): CredentialError | undefined {
  const name = tokenErrorName(error);
  if (name === undefined) return undefined;
  const text = errorMessage(error);
  const detail = text.slice(0, MAX_DETAIL_CHARS);
  const aadsts = /AADSTS(\d+)/.exec(text)?.[1];
  const refusal = aadsts === undefined ? undefined : REFUSALS[aadsts];
  if (refusal !== undefined) {
    const trace = /Trace ID: ([0-9a-f-]{36})/i.exec(text)?.[1];
    return new CredentialError(
      `Entra refused the watchdog's own sign-in (AADSTS${aadsts}: ${refusal.what}) for AZURE_CLIENT_ID/AZURE_CLIENT_SECRET: ` +
        `this is the watchdog's own credential, not the connector's. Fix: ${refusal.fix}` +
        (trace === undefined ? "" : ` (Entra trace ID ${trace})`),
      { problem: refusal.problem, aadsts, detail, cause: error },
    );
  }
  // A chain stops at the first credential that tried and failed; an aggregate means none could try.
  if (
    aadsts === undefined &&
    (name === "AggregateAuthenticationError" || name === "CredentialUnavailableError")
  ) {
    return new CredentialError(NO_CREDENTIAL, { problem: "no-credential", detail, cause: error });
  }
  return undefined;
}
