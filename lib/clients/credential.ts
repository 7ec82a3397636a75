/**
 * The Graph credential the contract describes: a client secret when one is
 * configured (local runs), otherwise the Function's managed identity (or, on a
 * laptop, the developer's Azure CLI login) through DefaultAzureCredential.
 * @azure/identity is loaded on demand: it is the heaviest import in the app.
 */
import type { TokenCredential } from "@azure/identity";
import type { Config } from "../config.js";

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

export async function createGraphCredential(azure: Config["azure"]): Promise<TokenCredential> {
  const identity = await import("@azure/identity");
  const common = {
    authorityHost: azure.authorityHost,
    disableInstanceDiscovery: needsInstanceDiscoveryDisabled(azure.authorityHost),
  };
  if (azure.clientSecret !== undefined && azure.clientId !== undefined) {
    return new identity.ClientSecretCredential(azure.tenantId, azure.clientId, azure.clientSecret, common);
  }
  return new identity.DefaultAzureCredential({
    ...common,
    tenantId: azure.tenantId,
    ...(azure.clientId !== undefined ? { managedIdentityClientId: azure.clientId } : {}),
  });
}

/** The `.default` scope for app-only Graph tokens on this Graph root (sovereign clouds differ). */
export function graphScope(graphEndpoint: string): string {
  return `${graphEndpoint.replace(/\/+$/, "")}/.default`;
}
