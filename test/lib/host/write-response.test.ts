/**
 * `writeResponse` writes the common answers (a string body, plain headers)
 * directly; everything must still reach the wire exactly as `HttpResponse`
 * renders it. Each case is answered once through each route and the two
 * answers are compared as a client sees them.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpResponseInit } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeResponse, writeViaHttpResponse } from "../../../lib/host/write-response.js";

let server: Server;
let base = "";
let current: { init: HttpResponseInit; direct: boolean } | undefined;

beforeAll(async () => {
  server = createServer((_req, res) => {
    const { init, direct } = current!;
    void (direct ? writeResponse(res, init) : writeViaHttpResponse(res, init));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http's client, so the raw headers are seen as sent (fetch would normalise some). */
function get(): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest(`${base}/`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const { date: _date, connection: _c, "keep-alive": _k, ...headers } = res.headers;
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString("utf8") });
      });
    })
      .on("error", reject)
      .end();
  });
}

async function both(init: HttpResponseInit): Promise<{ direct: Answer; general: Answer }> {
  current = { init, direct: true };
  const direct = await get();
  current = { init, direct: false };
  const general = await get();
  return { direct, general };
}

const CASES: [string, HttpResponseInit][] = [
  [
    "JSON with its content type",
    { status: 200, body: '{"status":"ignored"}', headers: { "content-type": "application/json" } },
  ],
  ["text without a content type", { status: 200, body: "hello nylas" }],
  ["an empty string body", { status: 204, body: "" }],
  ["no body at all", { status: 401 }],
  ["no status", { body: "x" }],
  [
    "non-ASCII text (content-length counts bytes)",
    { status: 200, body: "grüße — ✓", headers: { "content-type": "text/plain; charset=utf-8" } },
  ],
  [
    "mixed-case header names",
    { status: 405, body: "{}", headers: { Allow: "GET, POST", "Content-Type": "application/json" } },
  ],
  [
    "a jsonBody (general route)",
    { status: 200, jsonBody: { ok: true }, headers: { "cache-control": "no-store" } },
  ],
  ["a Buffer body (general route)", { status: 200, body: Buffer.from("bytes") }],
  ["a Headers object (general route)", { status: 200, body: "h", headers: new Headers({ "x-a": "1" }) }],
];

describe("writeResponse", () => {
  it.each(CASES)("%s: the same status, headers and bytes as HttpResponse", async (_name, init) => {
    const { direct, general } = await both(init);
    expect(direct).toEqual(general);
    expect(direct.headers["content-length"]).toBe(String(Buffer.byteLength(direct.body)));
  });

  it("defaults a string body's content type as undici does", async () => {
    const { direct } = await both({ status: 200, body: "plain" });
    expect(direct.headers["content-type"]).toBe("text/plain;charset=UTF-8");
  });
});
