/**
 * `watchdog serve`: a local host for the Function App, because Azure Functions
 * Core Tools cannot be installed everywhere. It runs the very same handlers the
 * Functions host runs, through the official HttpRequest and InvocationContext
 * types (lib/host/lazy-request.ts), on the routes, methods, keys and schedules the triggers declare
 * (lib/host/trigger.ts). Like a host, it is handed the triggers (bin/triggers.ts
 * loads functions/*.ts); nothing in lib/ depends on them.
 */
import { trimTrailingSlashes } from "../util/trim-trailing-slashes.js";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import { errorMessage } from "../errors.js";
import { timingSafeEqual } from "../util/timing-safe-equal.js";
import { setRuntimeDeps } from "../runtime.js";
import type { Deps } from "../deps.js";
import { MAX_BODY_BYTES } from "../grants/handle-nylas-webhook.js";
import { writeResponse } from "./write-response.js";
import { redactingHandler } from "./redact-answer.js";
import { flatHeaders } from "./flat-headers.js";
import { readBody } from "./read-body.js";
import { contextFor } from "./invocation-context.js";
import { lazyHttpRequest } from "./lazy-request.js";
import { startTimers, type RunningTimers } from "./serve-timers.js";
import { MIN_HEALTH_KEY_LENGTH, ROUTE_PREFIX, type HttpTrigger, type TriggerDescriptor } from "./trigger.js";

/** Nylas waits 10 s at most: a sender slower than this has given up, and must not hold a socket. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export { MIN_HEALTH_KEY_LENGTH };

export interface ServeOptions {
  port: number;
  host?: string;
  /** The shared deps (built by the caller from the config, so config errors surface before listening). */
  deps: Deps;
  /** Host log: requests, timer runs. */
  logger: Logger;
  /** What to serve: the Function App's triggers, as functions/*.ts declare them. */
  triggers: readonly TriggerDescriptor[];
  /** The function key for routes with authLevel "function"; generated when not given. */
  healthKey?: string;
  /** Run the timers (default true). Tests turn them off and call passes directly. */
  timers?: boolean;
  /** A request (headers and body) not received in full by then is answered 408 and cut (default 15 s). */
  requestTimeoutMs?: number;
}

export interface RunningHost {
  url: string;
  port: number;
  healthKey: string;
  /** Stops timers, stops accepting requests, waits for in-flight ones, closes the state store. */
  close(): Promise<void>;
}

function httpRoutes(triggers: readonly TriggerDescriptor[]): Map<string, HttpTrigger> {
  const routes = new Map<string, HttpTrigger>();
  for (const trigger of triggers) {
    // Wrapped once here, not per request: the same redacting handler the Functions host is given.
    if (trigger.kind === "http")
      routes.set(`${ROUTE_PREFIX}/${trimTrailingSlashes(trigger.route)}`, {
        ...trigger,
        handler: redactingHandler(trigger.handler),
      });
  }
  return routes;
}

/** The path without the query: a `?code=` there is the function key, which never goes to a log. */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?", 1)[0] ?? "/";
}

function refuse(res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { ...headers, "content-type": "application/json" }).end(JSON.stringify({ error }));
}

function keyGiven(req: IncomingMessage, url: URL): string {
  const header = req.headers["x-functions-key"];
  if (header === undefined) return url.searchParams.get("code") ?? "";
  return typeof header === "string" ? header : "";
}

/** One request, as the Functions host answers it: route, method, key, then the handler. */
async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  host: { routes: Map<string, HttpTrigger>; healthKey: string; logger: Logger },
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const route = host.routes.get(trimTrailingSlashes(url.pathname));
  if (route === undefined) return refuse(res, 404, "not found");
  const method = (req.method ?? "GET").toUpperCase();
  if (!(route.methods as readonly string[]).includes(method)) {
    return refuse(res, 405, "method not allowed", { allow: route.methods.join(", ") });
  }
  if (route.authLevel === "function" && !timingSafeEqual(keyGiven(req, url), host.healthKey)) {
    return refuse(res, 401, "function key required (x-functions-key or ?code=)");
  }
  const body = method === "GET" || method === "HEAD" ? undefined : await readBody(req, MAX_BODY_BYTES);
  const request = lazyHttpRequest({ method, url, headers: flatHeaders(req), body });
  await writeResponse(res, await route.handler(request, contextFor(route.name, host.logger)));
}

export async function startHost(options: ServeOptions): Promise<RunningHost> {
  if (!options.triggers?.length) {
    throw new TypeError(
      "startHost: no triggers to serve; pass the ones bin/triggers.ts loadTriggers() returns.",
    );
  }
  if (options.healthKey !== undefined && options.healthKey.length < MIN_HEALTH_KEY_LENGTH) {
    throw new RangeError(`The health key must be at least ${MIN_HEALTH_KEY_LENGTH} characters.`);
  }
  setRuntimeDeps(options.deps, options.logger);
  const healthKey = options.healthKey ?? randomBytes(24).toString("base64url");
  const host = { routes: httpRoutes(options.triggers), healthKey, logger: options.logger };
  const inFlight = new Set<Promise<void>>();
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  // Given at construction: set on the server afterwards, Node enforces them only after 60 s or more.
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(requestTimeout / 4)),
    },
    (req, res) => {
      const work = answer(req, res, host).catch((error: unknown) => {
        options.logger.error(`serve: ${req.method} ${pathOf(req)} failed: ${errorMessage(error)}`);
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end('{"error":"internal error"}');
      });
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const timers: RunningTimers | undefined =
    options.timers === false ? undefined : startTimers(options.triggers, options.deps.config, options.logger);
  const running = timers?.running ?? new Set<Promise<void>>();

  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    healthKey,
    async close() {
      timers?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests already received get their answer; a timer run in progress finishes.
      while (inFlight.size > 0 || running.size > 0) await Promise.allSettled([...inFlight, ...running]);
      // Only idle keep-alive connections are left: without this, close() would wait out their timeout.
      server.closeAllConnections();
      await closed;
      const store = await options.deps.store().catch(() => undefined);
      await store?.close?.();
      setRuntimeDeps(undefined);
    },
  };
}
