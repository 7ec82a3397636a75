/**
 * A Nylas hosted-auth link that re-authenticates one user: with `login_hint`
 * set to the grant's email, Nylas re-authenticates the existing grant (same
 * grant id) instead of creating another (GET /v3/connect/auth, Nylas v3 spec).
 */
import type { Config } from "../config.js";

/** The link, or undefined when NYLAS_CLIENT_ID / REAUTH_REDIRECT_URI are not both set. */
export function reauthLink(nylas: Config["nylas"], email: string | undefined): string | undefined {
  if (nylas.clientId === undefined || nylas.reauthRedirectUri === undefined) return undefined;
  const url = new URL("/v3/connect/auth", nylas.apiUri);
  url.searchParams.set("client_id", nylas.clientId);
  url.searchParams.set("redirect_uri", nylas.reauthRedirectUri);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("provider", "microsoft");
  if (email !== undefined) url.searchParams.set("login_hint", email);
  return url.toString();
}
