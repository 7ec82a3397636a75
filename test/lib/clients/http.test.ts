import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest, parseRetryAfter, safeUrl } from "../../../lib/clients/http.js";
import { ManualClock } from "../../../lib/clock.js";
import { HttpError } from "../../../lib/errors.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end("ok");
let hits = 0;
let base = "";
const server = createServer((req, res) => {
  hits++;
  handler(req, res);
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function reset(h: Handler): void {
  hits = 0;
  handler = h;
}

describe("httpRequest", () => {
  it("retries 429 honouring Retry-After, then succeeds", async () => {
    const clock = new ManualClock();
    const t0 = clock.now().getTime();
    reset((_req, res) => {
      if (hits < 3) {
        res.writeHead(429, { "retry-after": "7" }).end("slow down");
      } else res.writeHead(200).end("done");
    });
    const response = await httpRequest(
      { service: "slack", method: "POST", url: `${base}/x`, body: "{}" },
      { clock },
    );
    expect(response.text).toBe("done");
    expect(hits).toBe(3);
    expect(clock.now().getTime() - t0).toBe(14_000);
  });

  it("caps a huge Retry-After at maxDelayMs", async () => {
    const clock = new ManualClock();
    const t0 = clock.now().getTime();
    reset((_req, res) => {
      if (hits < 2) res.writeHead(503, { "retry-after": "3600" }).end();
      else res.writeHead(200).end("ok");
    });
    await httpRequest(
      { service: "graph", method: "GET", url: base, retry: { maxDelayMs: 2_000 } },
      { clock },
    );
    expect(clock.now().getTime() - t0).toBe(2_000);
  });

  it("gives up after maxAttempts with an HttpError carrying status, request id and body", async () => {
    const clock = new ManualClock();
    reset((_req, res) => res.writeHead(429, { "request-id": "req-1" }).end("nope"));
    const error = await httpRequest(
      { service: "pagerduty", method: "POST", url: base, retry: { maxAttempts: 3 } },
      { clock },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(429);
    expect((error as HttpError).requestId).toBe("req-1");
    expect((error as HttpError).body).toBe("nope");
    expect(hits).toBe(3);
  });

  it("does not retry a 400", async () => {
    reset((_req, res) => res.writeHead(400).end("bad"));
    await expect(
      httpRequest({ service: "nylas", method: "GET", url: base }, { clock: new ManualClock() }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
    expect(hits).toBe(1);
  });

  it("marks a non-idempotent timeout as ambiguous and does not repeat it", async () => {
    reset(() => {
      /* never answers */
    });
    const error = (await httpRequest(
      { service: "nylas", method: "POST", url: base, timeoutMs: 200, body: "{}" },
      { clock: new ManualClock() },
    ).catch((e: unknown) => e)) as HttpError;
    expect(error.statusCode).toBe(0);
    expect(error.ambiguous).toBe(true);
    expect(error.message).toMatch(/timed out/);
    expect(hits).toBe(1);
  });

  it("never names a secret URL's path in errors", async () => {
    reset((_req, res) => res.writeHead(400).end());
    const error = (await httpRequest(
      { service: "slack", method: "POST", url: `${base}/services/T0/B0/SECRETTOKEN`, secretUrl: true },
      { clock: new ManualClock() },
    ).catch((e: unknown) => e)) as HttpError;
    expect(error.message).not.toContain("SECRETTOKEN");
    expect(safeUrl(`${base}/a/b?token=x`)).toBe(`${base}/a/b`);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("5", 0)).toBe(5000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
  });
});
