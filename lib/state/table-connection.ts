/**
 * What a storage connection string (`AzureWebJobsStorage`) names: protocol,
 * host, account, whether it is Azurite, and which parts are secrets.
 */

const DEV_ACCOUNT = "devstoreaccount1";

export interface ParsedConnectionString {
  protocol: "http" | "https";
  host: string;
  account: string | undefined;
  /** Azurite: the dev account or a loopback endpoint. */
  local: boolean;
  /** Values that must never be shown (account key, SAS). */
  secrets: string[];
}

export function parseConnectionString(connectionString: string): ParsedConnectionString {
  const parts = new Map<string, string>();
  for (const element of connectionString.split(";")) {
    const at = element.indexOf("=");
    if (at > 0) parts.set(element.slice(0, at).trim().toLowerCase(), element.slice(at + 1).trim());
  }
  const secrets = [parts.get("accountkey"), parts.get("sharedaccesssignature")].filter(
    (v): v is string => v !== undefined,
  );
  if (parts.get("usedevelopmentstorage")?.toLowerCase() === "true") {
    return { protocol: "http", host: "127.0.0.1:10002", account: DEV_ACCOUNT, local: true, secrets };
  }
  const account = parts.get("accountname");
  const endpoint = parts.get("tableendpoint");
  let protocol = parts.get("defaultendpointsprotocol")?.toLowerCase() === "http" ? "http" : "https";
  let host =
    account === undefined
      ? "(no account)"
      : `${account}.table.${parts.get("endpointsuffix") ?? "core.windows.net"}`;
  let hostname = host;
  if (endpoint !== undefined) {
    try {
      const url = new URL(endpoint);
      protocol = url.protocol === "http:" ? "http" : "https";
      host = url.host;
      hostname = url.hostname;
    } catch {
      // Left for the SDK to reject.
    }
  }
  const local = account === DEV_ACCOUNT || ["localhost", "127.0.0.1", "[::1]"].includes(hostname);
  return { protocol: protocol as "http" | "https", host, account, local, secrets };
}
