/**
 * The shapes of Microsoft Graph this product reads and writes (application
 * registrations, their credentials, what `doctor` reads), and the `$select`
 * lists and limits Graph documents for them.
 */
import type { HttpError } from "../errors.js";

export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  /** First three characters of the secret; Graph never returns the rest. */
  hint: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
}

export interface KeyCredential {
  keyId: string;
  displayName: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
  type: string | null;
  usage: string | null;
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: string }[];
}

export interface GraphApplication {
  id: string;
  appId: string;
  displayName: string | null;
  signInAudience?: string;
  passwordCredentials: PasswordCredential[];
  keyCredentials: KeyCredential[];
  web?: { redirectUris: string[] };
  spa?: { redirectUris: string[] };
  publicClient?: { redirectUris: string[] };
  requiredResourceAccess?: RequiredResourceAccess[];
}

/** What `addPassword` returns: the only moment the secret value exists outside Entra. */
export interface NewPassword extends PasswordCredential {
  secretText: string;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string | null;
  oauth2PermissionScopes?: { id: string; value: string }[];
  appRoles?: { id: string; value: string | null }[];
}

export interface OAuth2PermissionGrant {
  id: string;
  clientId: string;
  consentType: string;
  principalId: string | null;
  resourceId: string;
  scope: string;
}

export interface AppRoleAssignment {
  id: string;
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

/** The properties a credential scan needs; `$select` keeps pages small. */
export const CREDENTIAL_SELECT = [
  "id",
  "appId",
  "displayName",
  "passwordCredentials",
  "keyCredentials",
] as const;

/**
 * The same without certificates, for reading every app of a tenant
 * (WATCH_APP_IDS=*): selecting keyCredentials is throttled at 150 requests per
 * minute per tenant (Graph docs, "Get application"), and a tenant-wide listing
 * would spend that budget on apps nobody asked about.
 */
export const PASSWORD_SELECT = ["id", "appId", "displayName", "passwordCredentials"] as const;

/** Graph's documented maximum page size for /applications. */
export const MAX_APPLICATIONS_PAGE = 999;
/** Graph's documented maximum requests per `$batch`. */
export const MAX_BATCH = 20;

/** Per credential (keyId): when Entra last saw it sign in, "across all flows"; null = never. */
export interface CredentialSignIn {
  keyId: string;
  keyType: string | null;
  lastSignInDateTime: string | null;
}

/** A row of the beta report `appCredentialSignInActivities`, as Graph sends it. */
export interface SignInRow {
  keyId?: string;
  keyType?: string | null;
  signInActivity?: { lastSignInDateTime?: string | null } | null;
}

export function toCredentialSignIns(rows: readonly SignInRow[]): CredentialSignIn[] {
  return rows
    .filter((r): r is SignInRow & { keyId: string } => typeof r.keyId === "string")
    .map((r) => ({
      keyId: r.keyId,
      keyType: r.keyType ?? null,
      lastSignInDateTime: r.signInActivity?.lastSignInDateTime ?? null,
    }));
}

/** One read's result: the app, undefined when the tenant has none, or the error when it could not be read. */
export interface BatchedRead {
  appId: string;
  app: GraphApplication | undefined;
  error?: HttpError;
}
