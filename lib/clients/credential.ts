/**
 * The Graph credential the contract describes: a client secret when one is
 * configured (local runs), otherwise the Function's managed identity (or, on a
 * laptop, the developer's Azure CLI login) through DefaultAzureCredential.
 * @azure/identity is loaded on demand: it is the heaviest import in the app.
 */
import type { TokenCredential } from "@azure/identity";
import type { Config } from "../config.js";
import { systemClock } from "../clock.js";
import { entraRetryPolicy, retryingCredential } from "./entra-retry.js";
import type { WaitOptions } from "./retry.js";

/** Entra authorities that do instance discovery against Microsoft (public and sovereign clouds). */
const KNOWN_AUTHORITIES = new Set([
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
  "login.microsoftonline.de",
]);

/**
 * Instance discovery asks Microsoft whether the authority is real; for any
 * other authority (Azure Stack, the simulator) it must be off or MSAL refuses.
 */
export function needsInstanceDiscoveryDisabled(authorityHost: string): boolean {
  return !KNOWN_AUTHORITIES.has(new URL(authorityHost).hostname.toLowerCase());
}

/**
 * Token requests are retried by the one retry policy (entra-retry.ts), never by
 * the SDK, whose waits honour any Retry-After uncapped. `retry.sleep` should be
 * the pass's clock; the system clock when not given.
 */
export async function createGraphCredential(
  azure: Config["azure"],
  retry: Partial<WaitOptions> = {},
): Promise<TokenCredential> {
  const identity = await import("@azure/identity");
  const wait: WaitOptions = { sleep: (ms, abort) => systemClock.sleep(ms, abort), ...retry };
  const common = {
    authorityHost: azure.authorityHost,
    disableInstanceDiscovery: needsInstanceDiscoveryDisabled(azure.authorityHost),
    retryOptions: { maxRetries: 0 },
  };
  if (azure.clientSecret !== undefined && azure.clientId !== undefined) {
    return new identity.ClientSecretCredential(azure.tenantId, azure.clientId, azure.clientSecret, {
      ...common,
      additionalPolicies: [entraRetryPolicy(wait)],
    });
  }
  const credential = new identity.DefaultAzureCredential({
    ...common,
    tenantId: azure.tenantId,
    ...(azure.clientId !== undefined ? { managedIdentityClientId: azure.clientId } : {}),
  });
  return retryingCredential(credential, wait);
}

/** The `.default` scope for app-only Graph tokens on this Graph root (sovereign clouds differ). */
export function graphScope(graphEndpoint: string): string {
  return `${graphEndpoint.replace(/\/+$/, "")}/.default`;
}
