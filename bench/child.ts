/**
 * The bench's floor processes, and the webhook on node:http one layer of
 * `serve` at a time (bench/layer-servers.ts): `node dist/bench/child.js <task>`.
 * A floor prints one JSON line (a ChildReport) on stdout, a server its URL.
 * Settings come from the same environment the product child gets.
 */
import { CREDENTIAL_SELECT } from "../lib/clients/graph.js";
import { MAX_GRANTS_PAGE } from "../lib/clients/nylas.js";
import { settingsOf } from "./floor-io.js";
import { pageApplicationsFloor, pageGrantsFloor, startBareServer } from "./floors.js";
import { measure } from "./report.js";

const env = settingsOf("bench child");

async function report(work: () => Promise<number>): Promise<void> {
  const out = await measure(async () => ({ exitCode: 0, count: await work() }));
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const [task] = process.argv.slice(2);
switch (task) {
  case "scan-floor": {
    const options = {
      authorityHost: env("AZURE_AUTHORITY_HOST"),
      tenantId: env("AZURE_TENANT_ID"),
      clientId: env("AZURE_CLIENT_ID"),
      clientSecret: env("AZURE_CLIENT_SECRET"),
      graphEndpoint: env("GRAPH_ENDPOINT"),
      select: CREDENTIAL_SELECT,
    };
    await report(() => pageApplicationsFloor(options));
    break;
  }
  case "sweep-floor": {
    const options = { apiUri: env("NYLAS_API_URI"), apiKey: env("NYLAS_API_KEY"), limit: MAX_GRANTS_PAGE };
    await report(() => pageGrantsFloor(options));
    break;
  }
  case "handler-server":
  case "functions-server": {
    // Imported here: the floors this child also runs load none of it.
    const layers = await import("./layer-servers.js");
    const start = task === "handler-server" ? layers.startHandlerServer : layers.startFunctionsServer;
    const { url } = await start(process.env);
    process.stdout.write(`${JSON.stringify({ url })}\n`);
    process.once("SIGTERM", () => process.exit(0));
    break;
  }
  case "bare-server": {
    const { url } = await startBareServer();
    process.stdout.write(`${JSON.stringify({ url })}\n`);
    process.once("SIGTERM", () => process.exit(0));
    break;
  }
  default:
    throw new Error(`bench child: unknown task "${task ?? ""}"`);
}
