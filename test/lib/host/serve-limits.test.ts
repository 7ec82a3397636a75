/**
 * `startHost` against senders that misbehave and keys that must stay secret:
 * a request whose body stalls is answered 408 and cut at the request timeout
 * (15 s by default, since Nylas gives up after 10 s), the function key never
 * reaches the log (not even as `?code=` in a failing request's URL), and a
 * short key is refused before anything listens.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTriggers } from "../../../bin/triggers.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, startHost, type ServeOptions } from "../../../lib/host/serve.js";
import type { HttpTrigger } from "../../../lib/host/trigger.js";
import { startWorld, type World } from "../../helpers/watchdog-world.js";

const KEY = "serve-limits-function-key-0123456789";

let w: World;
const calls: string[] = [];
/** Behind the function key: answers POSTs once their body has arrived, fails GETs. */
const probe: HttpTrigger = {
  kind: "http",
  name: "probe",
  route: "probe",
  methods: ["GET", "POST"],
  authLevel: "function",
  handler: async (request) => {
    calls.push(request.method);
    if (request.method === "GET") throw new Error("probe failed on purpose");
    return { status: 200, body: await request.text() };
  },
};

beforeAll(async () => {
  w = await startWorld({ clock: "system", host: false });
});
afterAll(async () => {
  await w?.close();
});

async function withHost<T>(
  options: Partial<ServeOptions>,
  fn: (host: Awaited<ReturnType<typeof startHost>>) => Promise<T>,
): Promise<T> {
  const host = await startHost({
    port: 0,
    deps: w.deps,
    logger: w.logs,
    timers: false,
    healthKey: KEY,
    triggers: [probe, ...(await loadTriggers())],
    ...options,
  });
  try {
    return await fn(host);
  } finally {
    await host.close();
  }
}

/** Sends headers announcing 100 bytes and only 10 of them; resolves with what came back and when the socket closed. */
function stalledPost(url: string, path: string): Promise<{ response: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let response = "";
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-length: 100\r\n\r\n0123456789`);
    });
    socket.on("data", (chunk: Buffer) => (response += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => resolve({ response, closedAfterMs: performance.now() - started }));
  });
}

describe("startHost: request timeout", () => {
  it("answers 408 and cuts a request whose body stalls, at the configured timeout, without calling the handler", async () => {
    calls.length = 0;
    await withHost({ requestTimeoutMs: 400 }, async (host) => {
      const { response, closedAfterMs } = await stalledPost(host.url, `/api/probe?code=${KEY}`);
      expect(response).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfterMs).toBeGreaterThanOrEqual(350);
      expect(closedAfterMs).toBeLessThan(2_000);
      // A request that arrives in full is still answered.
      const ok = await fetch(`${host.url}/api/probe`, {
        method: "POST",
        headers: { "x-functions-key": KEY },
        body: "hello",
      });
      expect(await ok.text()).toBe("hello");
    });
    expect(calls).toEqual(["POST"]);
  });

  it("defaults to 15 s: Nylas has given up by then (it waits 10 s)", async () => {
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(15_000);
    await withHost({}, async (host) => {
      const { response, closedAfterMs } = await stalledPost(host.url, "/api/nylas/webhook");
      expect(response).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfterMs).toBeGreaterThanOrEqual(14_500);
      expect(closedAfterMs).toBeLessThan(17_500);
    });
  }, 30_000);
});

describe("startHost: the function key", () => {
  it("never logs it: a failing or cut-off request is logged by its path, without the query", async () => {
    w.logs.lines.length = 0;
    await withHost({ requestTimeoutMs: 300 }, async (host) => {
      const failed = await fetch(`${host.url}/api/probe?code=${KEY}`);
      expect(failed.status).toBe(500);
      await stalledPost(host.url, `/api/probe?code=${KEY}&x=1`);
    });
    const logged = w.logs.lines.join("\n");
    expect(logged).toMatch(/serve: GET \/api\/probe failed: probe failed on purpose/);
    expect(logged).toMatch(/serve: POST \/api\/probe failed/);
    expect(logged).not.toContain(KEY);
    expect(logged).not.toContain("code=");
  });

  it("refuses a key shorter than 16 characters, or empty, before listening", async () => {
    for (const healthKey of ["", "short-key"]) {
      await expect(
        startHost({ port: 0, deps: w.deps, logger: w.logs, triggers: [probe], healthKey }),
      ).rejects.toThrow(/at least 16 characters/);
    }
  });

  it("refuses to start with no triggers to serve", async () => {
    await expect(startHost({ port: 0, deps: w.deps, logger: w.logs, triggers: [] })).rejects.toThrow(
      /no triggers to serve/,
    );
  });
});
