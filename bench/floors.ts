/**
 * The floors the product is measured against: the least code that does the
 * same I/O. Each reads the same endpoint with the same page size as the
 * product, parses every page (it has to, to find the next one) and keeps
 * nothing but a count.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface GraphFloorOptions {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Graph root without version. */
  graphEndpoint: string;
  /** The product's `$select` (CREDENTIAL_SELECT). */
  select: readonly string[];
  /** Each page's apps, as read (the whole-process floor writes them out). */
  onPage?: (apps: unknown[]) => void;
}

/** One client-credentials token, then every `/applications` page ($select, $top=999) via @odata.nextLink. */
export async function pageApplicationsFloor(options: GraphFloorOptions): Promise<number> {
  const tokenResponse = await fetch(`${options.authorityHost}/${options.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: options.clientId,
      client_secret: options.clientSecret,
      scope: `${options.graphEndpoint}/.default`,
    }).toString(),
  });
  if (!tokenResponse.ok) throw new Error(`token: ${tokenResponse.status}`);
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  let url: string | undefined =
    `${options.graphEndpoint}/v1.0/applications?$select=${options.select.join(",")}&$top=999`;
  let count = 0;
  while (url !== undefined) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`graph: ${response.status}`);
    const page = (await response.json()) as { value: unknown[]; "@odata.nextLink"?: string };
    count += page.value.length;
    options.onPage?.(page.value);
    url = page["@odata.nextLink"];
  }
  return count;
}

export interface NylasFloorOptions {
  apiUri: string;
  apiKey: string;
  /** Nylas's maximum, as the sweep uses. */
  limit: number;
}

/** Every grant, `limit` at a time by offset, until a short page. */
export async function pageGrantsFloor(options: NylasFloorOptions): Promise<number> {
  let count = 0;
  // The same requests as the product's client: oldest first, offset by what each page held, until empty.
  for (let offset = 0; ;) {
    const response = await fetch(
      `${options.apiUri}/v3/grants?limit=${options.limit}&offset=${offset}&sort_by=created_at&order_by=asc`,
      { headers: { authorization: `Bearer ${options.apiKey}`, accept: "application/json" } },
    );
    if (!response.ok) throw new Error(`nylas: ${response.status}`);
    const page = (await response.json()) as { data: unknown[] };
    count += page.data.length;
    if (page.data.length === 0) return count;
    offset += page.data.length;
  }
}

/** A node:http server that reads the request body and answers 200 — the floor for `serve`. */
export async function startBareServer(port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
