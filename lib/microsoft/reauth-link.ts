/**
 * A Nylas hosted-auth link that re-authenticates one user: with `login_hint`
 * set to the grant's email, Nylas re-authenticates the existing grant (same
 * grant id) instead of creating another (GET /v3/connect/auth, Nylas v3 spec).
 *
 * Built here rather than with the Nylas SDK's `auth.urlForOAuth2`, because the
 * webhook builds it on its answer path and a static import of the SDK would put
 * it in every trigger's cold start (measured: about 1.6-2.2x the bundled start).
 * test/lib/grants/grant-signals.test.ts holds this link equal to the SDK's for
 * the same inputs, parameter for parameter, so the SDK stays the reference.
 *
 * No `credential_id`: a grant asked to sign in again is on a superseded secret
 * or has gone invalid, and either way must come back on the connector's
 * current credential, which Nylas uses when none is named.
 */
import type { Config } from "../config.js";

/** The link, or undefined when NYLAS_CLIENT_ID / REAUTH_REDIRECT_URI are not both set. */
export function reauthLink(nylas: Config["nylas"], email: string | undefined): string | undefined {
  if (nylas.clientId === undefined || nylas.reauthRedirectUri === undefined) return undefined;
  // From the origin: an API root written with a trailing "/" must not double the path's slash.
  const url = new URL("/v3/connect/auth", new URL(nylas.apiUri).origin);
  url.searchParams.set("client_id", nylas.clientId);
  url.searchParams.set("redirect_uri", nylas.reauthRedirectUri);
  // The SDK always sends it; "online" is Nylas's default (no refresh token handed to the app).
  url.searchParams.set("access_type", "online");
  url.searchParams.set("response_type", "code");
  url.searchParams.set("provider", "microsoft");
  if (email !== undefined && email !== "") url.searchParams.set("login_hint", email);
  return url.toString();
}
