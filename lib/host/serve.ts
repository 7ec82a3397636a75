/**
 * `watchdog serve`: a local host for the Function App, because Azure Functions
 * Core Tools cannot be installed everywhere. It runs the very same handlers the
 * Functions host runs (functions/*.ts), through the official HttpRequest and
 * InvocationContext types, on the same routes (`/api/nylas/webhook`,
 * `/api/health`), and both timers on their NCRONTAB schedules (croner, which
 * reads the same 6-field syntax). Like a host, it loads the trigger modules;
 * nothing in lib/ depends on them otherwise.
 */
import { trimTrailingSlashes } from "../util/trim-trailing-slashes.js";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes, randomUUID } from "node:crypto";
import azureFunctions, { type HttpResponseInit, type InvocationContext, type Timer } from "@azure/functions";
import { Cron } from "croner";
import type { Logger } from "../logger.js";
import { errorMessage } from "../errors.js";
import { timingSafeEqual } from "../util/timing-safe-equal.js";
import { setRuntimeDeps, runtimeDeps } from "../runtime.js";
import type { Deps } from "../deps.js";
import { MAX_BODY_BYTES } from "../grants/handle-nylas-webhook.js";
import { writeResponse } from "./write-response.js";

const { HttpRequest, InvocationContext: Context } = azureFunctions;

type HttpHandler = (
  request: InstanceType<typeof HttpRequest>,
  context: InvocationContext,
) => Promise<HttpResponseInit>;
type TimerHandler = (timer: Timer, context: InvocationContext) => Promise<void>;

export interface ServeOptions {
  port: number;
  host?: string;
  /** The shared deps (built by the caller from the config, so config errors surface before listening). */
  deps: Deps;
  /** Host log: requests, timer runs. */
  logger: Logger;
  /** The function key for `/api/health`; generated when not given. */
  healthKey?: string;
  /** Run the timers (default true). Tests turn them off and call passes directly. */
  timers?: boolean;
}

export interface RunningHost {
  url: string;
  port: number;
  healthKey: string;
  /** Stops timers, stops accepting requests, waits for in-flight ones, closes the state store. */
  close(): Promise<void>;
}

/** Loads the trigger modules quietly: outside Azure, @azure/functions prints test-mode warnings on registration. */
async function loadTriggers() {
  /* eslint-disable no-console -- the library warns through console.warn; we filter only its test-mode notices */
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = String(args[0]);
    if (text.includes('"@azure/functions" package') && text.startsWith("WARNING:")) return;
    warn(...args);
  };
  try {
    const [webhook, health, watchdog, sweep] = await Promise.all([
      import("../../functions/nylas-webhook.js"),
      import("../../functions/health.js"),
      import("../../functions/secret-watchdog.js"),
      import("../../functions/grant-sweep.js"),
    ]);
    return {
      http: {
        "/api/nylas/webhook": {
          handler: webhook.nylasWebhook,
          methods: ["GET", "POST"],
          auth: "anonymous",
        },
        "/api/health": { handler: health.health, methods: ["GET"], auth: "function" },
      } as Record<string, { handler: HttpHandler; methods: string[]; auth: "anonymous" | "function" }>,
      timers: [
        { name: "secretWatchdog", handler: watchdog.secretWatchdog },
        { name: "grantSweep", handler: sweep.grantSweep },
      ] as { name: string; handler: TimerHandler }[],
    };
  } finally {
    console.warn = warn;
  }
  /* eslint-enable no-console */
}

function contextFor(functionName: string, logger: Logger): InvocationContext {
  return new Context({
    functionName,
    invocationId: randomUUID(),
    logHandler: (level, ...args) => {
      const text = args.map((a) => (typeof a === "string" ? a : errorMessage(a))).join(" ");
      if (level === "error" || level === "critical") logger.error(`[${functionName}] ${text}`);
      else if (level === "warning") logger.warn(`[${functionName}] ${text}`);
      else if (level === "debug" || level === "trace") logger.debug(`[${functionName}] ${text}`);
      else logger.info(`[${functionName}] ${text}`);
    },
  });
}

/**
 * Keeps at most `limit + 1` bytes: enough for the handler to see "too large"
 * without buffering an attack. The rest is read and dropped rather than the
 * socket destroyed: a reset connection would cut the sender off before its 413
 * (`server.requestTimeout` bounds a sender that never stops). Events, not
 * `for await`: the async iterator costs a promise per chunk, and a webhook
 * body is almost always one chunk (bench/RESULTS.md, "serve").
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      if (size > limit) return;
      size += chunk.length;
      chunks.push(chunk);
    });
    req.once("end", () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      resolve(body.subarray(0, limit + 1));
    });
    req.once("error", reject);
  });
}

export async function startHost(options: ServeOptions): Promise<RunningHost> {
  setRuntimeDeps(options.deps, options.logger);
  const triggers = await loadTriggers();
  const healthKey = options.healthKey ?? randomBytes(24).toString("base64url");
  const inFlight = new Set<Promise<void>>();

  const server = createServer((req, res) => {
    const work = (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const route = triggers.http[trimTrailingSlashes(url.pathname)];
      if (route === undefined) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
        return;
      }
      const method = (req.method ?? "GET").toUpperCase();
      if (!route.methods.includes(method)) {
        res
          .writeHead(405, { allow: route.methods.join(", "), "content-type": "application/json" })
          .end('{"error":"method not allowed"}');
        return;
      }
      if (route.auth === "function") {
        const given = req.headers["x-functions-key"] ?? url.searchParams.get("code") ?? "";
        if (typeof given !== "string" || !timingSafeEqual(given, healthKey)) {
          res
            .writeHead(401, { "content-type": "application/json" })
            .end('{"error":"function key required (x-functions-key or ?code=)"}');
          return;
        }
      }
      const body = method === "GET" || method === "HEAD" ? undefined : await readBody(req, MAX_BODY_BYTES);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers[name] = value;
        else if (Array.isArray(value)) headers[name] = value.join(", ");
      }
      const request = new HttpRequest({
        method,
        url: url.toString(),
        headers,
        ...(body ? { body: { bytes: body } } : {}),
      });
      const name = url.pathname.endsWith("/health") ? "health" : "nylasWebhook";
      const response = await route.handler(request, contextFor(name, options.logger));
      await writeResponse(res, response);
    })().catch((error: unknown) => {
      options.logger.error(`serve: ${req.method} ${req.url ?? ""} failed: ${errorMessage(error)}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end('{"error":"internal error"}');
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  // Nylas waits 10 s at most; a slow client must not hold a socket forever.
  server.requestTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const jobs: Cron[] = [];
  /** Timer runs in progress: close() lets them finish before it closes the state store under them. */
  const running = new Set<Promise<void>>();
  if (options.timers !== false) {
    const schedules = runtimeDeps().config.schedules;
    for (const timer of triggers.timers) {
      const schedule = timer.name === "secretWatchdog" ? schedules.watchdog : schedules.grantSweep;
      jobs.push(
        new Cron(schedule, { protect: true, timezone: "UTC" }, () => {
          const run = (async () => {
            const context = contextFor(timer.name, options.logger);
            try {
              await timer.handler(
                { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer,
                context,
              );
            } catch (error) {
              // A timer that throws is a failed run, as in Azure; the next schedule tries again.
              options.logger.error(`[${timer.name}] failed: ${errorMessage(error)}`);
            }
          })();
          running.add(run);
          void run.finally(() => running.delete(run));
          return run;
        }),
      );
      options.logger.info(
        `serve: ${timer.name} on "${schedule}", next run ${jobs.at(-1)?.nextRun()?.toISOString() ?? "never"}`,
      );
    }
  }

  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    healthKey,
    async close() {
      for (const job of jobs) job.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests already received get their answer; a timer run in progress finishes.
      while (inFlight.size > 0 || running.size > 0) await Promise.allSettled([...inFlight, ...running]);
      // Only idle keep-alive connections are left: without this, close() would wait out their timeout.
      server.closeAllConnections();
      await closed;
      const store = await options.deps.state().catch(() => undefined);
      await store?.close?.();
      setRuntimeDeps(undefined);
    },
  };
}
