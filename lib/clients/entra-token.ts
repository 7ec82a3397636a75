/**
 * Proves a client secret: asks Entra for a client-credentials token with it.
 * A fresh credential per attempt, so no cached token can answer for Entra.
 * Entra may reject a brand-new secret for seconds to minutes (no documented SLA;
 * peers report up to 10 min): callers poll this with back-off.
 */
import { needsInstanceDiscoveryDisabled, graphScope } from "./credential.js";

export type SecretCheck =
  | { ok: true }
  | {
      ok: false;
      /** AADSTS number when Entra gave one: "7000215" wrong/unpropagated, "7000222" expired, "700016" unknown app. */
      aadsts: string | undefined;
      /** OAuth error code, e.g. "invalid_client"; undefined when Entra could not be reached. */
      error: string | undefined;
      /** Entra's description, safe to show (it never contains the secret). */
      message: string;
    };

export interface SecretCheckInput {
  tenantId: string;
  clientId: string;
  secret: string;
  authorityHost: string;
  graphEndpoint: string;
}

export async function checkClientSecret(input: SecretCheckInput): Promise<SecretCheck> {
  const { ClientSecretCredential } = await import("@azure/identity");
  const credential = new ClientSecretCredential(input.tenantId, input.clientId, input.secret, {
    authorityHost: input.authorityHost,
    disableInstanceDiscovery: needsInstanceDiscoveryDisabled(input.authorityHost),
    // One attempt per check: the caller owns the back-off schedule.
    retryOptions: { maxRetries: 0 },
  });
  try {
    await credential.getToken(graphScope(input.graphEndpoint));
    return { ok: true };
  } catch (error) {
    const e = error as { message?: string; errorResponse?: { error?: string; errorDescription?: string } };
    const text = e.errorResponse?.errorDescription ?? e.message ?? String(error);
    const aadsts = /AADSTS(\d+)/.exec(text)?.[1] ?? /\b(7000215|7000222|700016|90002)\b/.exec(text)?.[1];
    const oauth =
      e.errorResponse?.error ?? /\b(invalid_client|unauthorized_client|invalid_request)\b/.exec(text)?.[1];
    // Keep the first line of Entra's text: it names the cause without trace noise.
    return {
      ok: false,
      aadsts,
      error: oauth,
      message: text.split("\n")[0]!.slice(0, 400).replaceAll(input.secret, "[REDACTED]"),
    };
  }
}
