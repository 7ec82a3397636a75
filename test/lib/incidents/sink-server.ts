/**
 * A real HTTP server on loopback that plays every alert sink: records each request
 * (raw body and headers), and per path can fail the first N requests (500, or 429
 * with Retry-After), refuse with a fixed status, answer late, or hang without answering.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Behaviour {
  /** Fail this many requests first. */
  failFirst?: number;
  /** Status of those failures: 500 (default), 429 (with `retryAfter`), 503… */
  failStatus?: number;
  retryAfter?: string;
  /** Body of a failure (PagerDuty-style errors). */
  failBody?: string;
  /** Success status: 200 (Slack), 202 (PagerDuty, Teams Workflows). */
  okStatus?: number;
  /** Never answer. */
  hang?: boolean;
  /** Answer this long after the request is received (and recorded). */
  delayMs?: number;
}

export interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export class SinkServer {
  readonly requests: Recorded[] = [];
  readonly #behaviours = new Map<string, Behaviour>();
  readonly #seen = new Map<string, number>();
  #server: Server | undefined;
  #base = "";

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = req.url ?? "/";
        const body = Buffer.concat(chunks).toString("utf8");
        const b = this.#behaviours.get(path) ?? {};
        const n = (this.#seen.get(path) ?? 0) + 1;
        this.#seen.set(path, n);
        if (b.hang) {
          this.requests.push({ path, headers: req.headers, body, status: 0 });
          return;
        }
        const failing = n <= (b.failFirst ?? 0);
        const status = failing ? (b.failStatus ?? 500) : (b.okStatus ?? 200);
        this.requests.push({ path, headers: req.headers, body, status });
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (failing && b.retryAfter !== undefined) headers["retry-after"] = b.retryAfter;
        const answer = () =>
          res
            .writeHead(status, headers)
            .end(
              failing ? (b.failBody ?? '{"error":"down"}') : status === 202 ? '{"status":"success"}' : "ok",
            );
        if (b.delayMs === undefined) answer();
        else setTimeout(answer, b.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#base = `http://127.0.0.1:${port}`;
    return this;
  }

  url(path: string): string {
    return `${this.#base}${path}`;
  }

  behave(path: string, behaviour: Behaviour): void {
    this.#behaviours.set(path, behaviour);
    this.#seen.set(path, 0);
  }

  /** Requests the sink at `path` answered with 2xx. */
  accepted(path: string): Recorded[] {
    return this.requests.filter((r) => r.path === path && r.status >= 200 && r.status < 300);
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  }
}
