/**
 * The plumbing shared by the simulated services: one HTTPS server per service,
 * every request recorded, faults applied, and handlers written as plain
 * request → response functions so Graph `$batch` can route sub-requests
 * through the very same code (and the same faults) as top-level requests.
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../logger.js";
import type { FaultInjector, FaultResponse, SimService } from "./faults.js";
import type { SimulatorCertificates } from "./tls.js";

/** A request as the handlers see it (already read and decoded). */
export interface SimRequest {
  service: SimService;
  method: string;
  /** Path without the query string, percent-decoding left to the handler. */
  path: string;
  query: URLSearchParams;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** True for a Graph `$batch` sub-request. */
  batch?: boolean;
}

/** A handler's answer. `abort` makes the server hang or reset instead of answering. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  abort?: "hang" | "reset";
}

/** One request the simulator received, for assertions. */
export interface RecordedRequest {
  service: SimService;
  method: string;
  path: string;
  /** Decoded query parameters (last value wins). */
  query: Record<string, string>;
  /** Lower-case header names; `authorization` is kept so tests can check what was sent. */
  headers: Record<string, string>;
  body: string;
  /** Status answered; 0 while in flight, or when the connection hung or was reset. */
  status: number;
  at: Date;
  /** Set on Graph `$batch` sub-requests. */
  batch?: boolean;
}

/** What each simulated service provides to the shared pipeline. */
export interface ServiceHandler {
  handle(req: SimRequest): Promise<SimResponse> | SimResponse;
  /** The service's own error shape for an injected status without a body. */
  errorResponse(status: number, req: SimRequest): SimResponse;
  /** Adds per-service headers (request ids) to every answer, faults included. */
  finalize?(req: SimRequest, res: SimResponse): SimResponse;
}

/** Bounded, in-order log of requests; trimming keeps memory flat in benchmarks. */
export class RequestLog {
  readonly entries: RecordedRequest[] = [];
  enabled: boolean;
  readonly max: number;
  readonly #clock: () => Date;

  constructor(options: { enabled: boolean; max: number; now: () => Date }) {
    this.enabled = options.enabled;
    this.max = options.max;
    this.#clock = options.now;
  }

  record(req: SimRequest): RecordedRequest {
    const entry: RecordedRequest = {
      service: req.service,
      method: req.method,
      path: req.path,
      query: Object.fromEntries(req.query),
      headers: req.headers,
      body: req.body,
      status: 0,
      at: this.#clock(),
      ...(req.batch ? { batch: true } : {}),
    };
    if (!this.enabled) return entry;
    this.entries.push(entry);
    // Trim in chunks of 10 % so the O(n) splice runs rarely.
    if (this.entries.length > this.max + Math.ceil(this.max / 10)) {
      this.entries.splice(0, this.entries.length - this.max);
    }
    return entry;
  }
}

/** Everything `dispatch` needs besides the request. */
export interface DispatchContext {
  /** Mutable so Graph's handler can be created with a dispatcher that points back at it. */
  handler: ServiceHandler;
  faults: FaultInjector;
  log: RequestLog;
  logger: Logger;
}

/** A JSON answer. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): SimResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/** A plain-text answer. */
export function textResponse(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): SimResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body };
}

/**
 * Runs one request through faults and the handler, records it, and returns
 * the answer. Handler exceptions become the service's own 500.
 */
export async function dispatch(req: SimRequest, ctx: DispatchContext): Promise<SimResponse> {
  const entry = ctx.log.record(req);
  const fault = ctx.faults.take(req.service, req.method, req.path);
  let res: SimResponse;
  if (fault !== undefined && (fault.when ?? "before") === "before") {
    const r = fault.response;
    if ("delayMs" in r) {
      await sleep(r.delayMs);
      res = await handleSafely(req, ctx);
    } else {
      res = faultAnswer(r, req, ctx.handler);
    }
  } else {
    res = await handleSafely(req, ctx);
    if (fault !== undefined) {
      const r = fault.response;
      if ("delayMs" in r) await sleep(r.delayMs);
      else res = faultAnswer(r, req, ctx.handler);
    }
  }
  if (ctx.handler.finalize && res.abort === undefined) res = ctx.handler.finalize(req, res);
  entry.status = res.abort === undefined ? res.status : 0;
  ctx.logger.debug(
    `sim ${req.service}${req.batch ? " (batch)" : ""} ${req.method} ${req.path} -> ${res.abort ?? res.status}` +
      (fault ? ` [fault #${fault.id}]` : ""),
  );
  return res;
}

function faultAnswer(
  r: Exclude<FaultResponse, { delayMs: number }>,
  req: SimRequest,
  handler: ServiceHandler,
): SimResponse {
  if ("hang" in r) return { status: 0, abort: "hang" };
  if ("reset" in r) return { status: 0, abort: "reset" };
  if ("echo" in r) return echoAnswer(r, req);
  if (r.body === undefined) {
    const base = handler.errorResponse(r.status, req);
    return { ...base, headers: { ...base.headers, ...r.headers } };
  }
  const isText = typeof r.body === "string";
  return {
    status: r.status,
    headers: {
      "content-type": isText ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
      ...r.headers,
    },
    body: isText ? (r.body as string) : JSON.stringify(r.body),
  };
}

/** The request quoted back, headers and body, in the shape the fault asks for. */
function echoAnswer(r: { echo: "json" | "html"; status: number }, req: SimRequest): SimResponse {
  const url = `${req.path}${req.query.size > 0 ? `?${req.query.toString()}` : ""}`;
  // The echo is in the field each service's clients read as its message, so it reaches error texts.
  // Credentials first, as "invalid token: …" answers put them: an excerpt of the start still holds them.
  const quoted = `Authorization: ${req.headers.authorization ?? "-"}; body: ${req.body}; ${req.method} ${url}; headers: ${JSON.stringify(req.headers)}`;
  if (r.echo === "json") {
    return jsonResponse(
      r.status,
      req.service === "entra"
        ? {
            error: "invalid_request",
            error_description: `AADSTS900144: Bad request: ${quoted}`,
            error_codes: [900144],
          }
        : {
            request_id: "echo",
            error: {
              code: "EchoedRequest",
              type: "invalid_request_error",
              message: `Bad request: ${quoted}`,
            },
          },
    );
  }
  const headers = Object.entries(req.headers)
    .map(([name, value]) => `<tr><td>${name}</td><td>${value}</td></tr>`)
    .join("");
  return {
    status: r.status,
    headers: { "content-type": "text/html; charset=utf-8" },
    body: `<html><head><title>${r.status} Error</title></head><body><pre>${quoted}</pre><h1>Request failed</h1><table>${headers}</table></body></html>`,
  };
}

async function handleSafely(req: SimRequest, ctx: DispatchContext): Promise<SimResponse> {
  try {
    return await ctx.handler.handle(req);
  } catch (error) {
    ctx.logger.error(`sim ${req.service} ${req.method} ${req.path} handler failed`, error);
    return ctx.handler.errorResponse(500, req);
  }
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** A running simulated service. */
export interface ServiceServer {
  /** `https://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts one HTTPS server on an ephemeral loopback port for `service`. */
export async function startServiceServer(
  service: SimService,
  certificates: SimulatorCertificates,
  ctx: DispatchContext,
): Promise<ServiceServer> {
  const sockets = new Set<Socket>();
  const server = https.createServer({ cert: certificates.certPem, key: certificates.keyPem });
  // Longer than the clients' idle keep-alive (Node's agent and undici use ~4-5 s), so the
  // server never closes a socket a client is about to reuse: that race shows up as ECONNRESET.
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    if (body === undefined) {
      res.writeHead(413, { "content-type": "text/plain" }).end("Request Entity Too Large");
      return;
    }
    const simReq: SimRequest = {
      service,
      method: (req.method ?? "GET").toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: headersOf(req),
      body,
    };
    const answer = await dispatch(simReq, ctx);
    if (answer.abort === "hang") return; // closed by close() or by the client giving up
    if (answer.abort === "reset") {
      resetSocket(req.socket);
      return;
    }
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? "");
  };

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    onRequest(req, res).catch((error: unknown) => {
      ctx.logger.error(`sim ${service} request failed`, error);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  let closing = false;
  // Tracked from the TCP connection on, not from the end of the TLS handshake: a client still
  // handshaking when close() runs would otherwise slip through and hold close() open.
  server.on("connection", (socket: Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // Clients that give up mid-handshake or send garbage must not crash the simulator.
  server.on("tlsClientError", () => undefined);
  server.on("clientError", (_error, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        // Keep-alive and hung connections would otherwise hold close() open forever.
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function resetSocket(socket: Socket): void {
  // A TCP RST (ECONNRESET at the client) where the platform allows it; a plain close otherwise.
  const withReset = socket as Socket & { resetAndDestroy?: () => Socket };
  try {
    if (typeof withReset.resetAndDestroy === "function") {
      withReset.resetAndDestroy();
      return;
    }
  } catch {
    // fall through to destroy()
  }
  socket.destroy();
}
