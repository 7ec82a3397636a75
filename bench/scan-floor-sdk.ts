/**
 * The scan's floor on the stack's SDKs: what bench/scan-floor.ts does (one
 * token, every `/applications` page, the same bytes of JSON), with the token
 * from @azure/identity's ClientSecretCredential and the pages through the
 * Microsoft Graph SDK's client, as the stack prescribes. Nothing from lib/ but
 * the CLI's V8 tiering setting, and Node's compile cache, as bin/watchdog.ts
 * keeps it: the least a scan written on this stack does.
 *
 * Bundled by scripts/bundle-bench.mjs with the CLI's esbuild options (the same
 * trimming of the SDKs' imports), so it loads the SDKs as the CLI does:
 *
 *   node dist/bench-sdk/scan-floor-sdk.js   (the environment bench/scan-floor.ts gets)
 *
 * The gap between it and the bare floor is what the stack costs a scan; the gap
 * between the product and it is what the product adds on top (the connector's
 * evidence, the checks, the report), in the same run.
 */
import { enableCompileCache } from "node:module";
import { ClientSecretCredential } from "@azure/identity";
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
} from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { applyShortRunTiering } from "../lib/cli/v8-tiering.js";
import { jsonWriter, settingsOf } from "./floor-io.js";

const env = settingsOf("scan floor");

enableCompileCache();
await applyShortRunTiering();

const authorityHost = env("AZURE_AUTHORITY_HOST");
const graphEndpoint = env("GRAPH_ENDPOINT").replace(/\/+$/, "");
const credential = new ClientSecretCredential(
  env("AZURE_TENANT_ID"),
  env("AZURE_CLIENT_ID"),
  env("AZURE_CLIENT_SECRET"),
  // The simulator is no Microsoft authority: MSAL must not ask Microsoft whether it is one.
  { authorityHost, disableInstanceDiscovery: !authorityHost.includes("login.microsoftonline.") },
);
const client = Client.initWithMiddleware({
  middleware: [
    new AuthenticationHandler(
      new TokenCredentialAuthenticationProvider(credential, { scopes: [`${graphEndpoint}/.default`] }),
    ),
    new RedirectHandler(new RedirectHandlerOptions()),
    new HTTPMessageHandler(),
  ],
  baseUrl: `${graphEndpoint}/`,
  defaultVersion: "v1.0",
  customHosts: new Set([new URL(graphEndpoint).hostname]),
});

const out = jsonWriter(Number(env("BENCH_JSON_BYTES")));
let url: string | undefined = `/applications?$select=${env("BENCH_SELECT")}&$top=999`;
let count = 0;
while (url !== undefined) {
  const page = (await client.api(url).get()) as { value: unknown[]; "@odata.nextLink"?: string };
  count += page.value.length;
  for (const app of page.value) out.write(`${JSON.stringify(app)}\n`);
  url = page["@odata.nextLink"];
}
out.end();
process.stderr.write(`scan: ${count} app(s)\n`);
