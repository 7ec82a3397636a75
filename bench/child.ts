/**
 * The bench's floor processes, and the webhook handler without the Functions
 * host's objects: `node dist/bench/child.js <task>`. Each task prints one JSON
 * line (a ChildReport) on stdout. Settings come from the same environment the
 * product child gets.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CREDENTIAL_SELECT } from "../lib/clients/graph.js";
import { MAX_GRANTS_PAGE } from "../lib/clients/nylas.js";
import { loadConfig } from "../lib/config.js";
import { createDeps } from "../lib/deps.js";
import { receiveNylasWebhook } from "../lib/grants/grant-passes.js";
import { silentLogger } from "../lib/logger.js";
import { pageApplicationsFloor, pageGrantsFloor, startBareServer } from "./floors.js";
import { measure } from "./report.js";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`bench child: ${name} is not set`);
  return value;
}

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
  case "handler-server": {
    // The webhook handler on bare node:http, without @azure/functions' request and response objects:
    // how much of `serve`'s time is the handler's own.
    const deps = createDeps(loadConfig(process.env), silentLogger);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        receiveNylasWebhook(deps, {
          method: req.method ?? "GET",
          query: new URL(req.url ?? "/", "http://localhost").searchParams,
          headers,
          body: () => Promise.resolve(Buffer.concat(chunks)),
        }).then(
          (out) => res.writeHead(out.status, out.headers).end(out.body),
          () => res.writeHead(500).end(),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
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
