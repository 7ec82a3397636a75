/**
 * The webhook on bare node:http, one layer of `watchdog serve` at a time, for
 * the serve figure (bench/figures/serve.ts): the handler alone, then the same
 * handler reached through the Functions types. Between them and `serve`, the
 * figure's CPU-per-request rows say which layer costs what. Loaded only by
 * the bench child that serves them (bench/child.ts), so no floor pays for
 * importing @azure/functions.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadTriggers } from "../bin/triggers.js";
import { loadConfig, type Env } from "../lib/config.js";
import { createDeps } from "../lib/deps.js";
import { receiveNylasWebhook } from "../lib/grants/grant-passes.js";
import { MAX_BODY_BYTES } from "../lib/grants/handle-nylas-webhook.js";
import { flatHeaders } from "../lib/host/flat-headers.js";
import { contextFor } from "../lib/host/invocation-context.js";
import { lazyHttpRequest } from "../lib/host/lazy-request.js";
import { readBody } from "../lib/host/read-body.js";
import { redactingHandler } from "../lib/host/redact-answer.js";
import { writeResponse } from "../lib/host/write-response.js";
import { silentLogger } from "../lib/logger.js";
import { invocationLogger, setRuntimeDeps } from "../lib/runtime.js";

export interface LayerServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server, after: () => void = () => undefined): Promise<LayerServer> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      after();
    },
  };
}

/**
 * receiveNylasWebhook called straight from node:http, without @azure/functions' request, context
 * and response objects: the handler's own share of serve's time.
 */
export function startHandlerServer(env: Env): Promise<LayerServer> {
  const deps = createDeps(loadConfig(env), silentLogger);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      receiveNylasWebhook(deps, {
        method: req.method ?? "GET",
        query: new URL(req.url ?? "/", "http://localhost").searchParams,
        headers: new Headers(flatHeaders(req)),
        body: () => Promise.resolve(Buffer.concat(chunks)),
      }).then(
        (out) => res.writeHead(out.status, out.headers).end(out.body),
        () => res.writeHead(500).end(),
      );
    });
  });
  return listen(server);
}

/**
 * The Function's handler as `watchdog serve` hands it a request: @azure/functions' HttpRequest
 * (over lib/host/lazy-request.ts) and InvocationContext, the redacting wrapper, and deps whose log
 * lines follow the invocation through AsyncLocalStorage; without serve's routing, method and key
 * checks. One process-wide runtime, as in serve: close() clears it.
 */
export async function startFunctionsServer(env: Env): Promise<LayerServer> {
  const webhook = (await loadTriggers()).find((t) => t.kind === "http" && t.name === "nylasWebhook");
  if (webhook?.kind !== "http") throw new Error("bench: the Function App declares no nylasWebhook trigger");
  const handler = redactingHandler(webhook.handler);
  setRuntimeDeps(createDeps(loadConfig(env), invocationLogger()), silentLogger);
  const server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://localhost");
    const headers = flatHeaders(req);
    readBody(req, MAX_BODY_BYTES)
      .then((body) =>
        handler(lazyHttpRequest({ method, url, headers, body }), contextFor(webhook.name, silentLogger)),
      )
      .then((out) => writeResponse(res, out))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  return listen(server, () => setRuntimeDeps(undefined));
}
