/**
 * One raw client-credentials token request to the simulated Entra, without the
 * SDK's token cache: what a test uses to see exactly how Entra answers a secret.
 */
import type { Simulator } from "../../lib/sim/index.js";

export function requestToken(
  sim: Simulator,
  appId: string,
  secret: string,
  scope: string,
): Promise<Response> {
  return fetch(`${sim.urls.authorityHost}/${sim.tenant.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: appId,
      client_secret: secret,
      scope,
    }).toString(),
  });
}

/** An app-only Graph token for the watchdog's own app: what a test that talks to Graph directly sends. */
export async function watchdogGraphToken(sim: Simulator): Promise<string> {
  const res = await requestToken(
    sim,
    sim.watchdog.appId,
    sim.watchdog.secret,
    `${sim.urls.graphEndpoint}/.default`,
  );
  return ((await res.json()) as { access_token: string }).access_token;
}
