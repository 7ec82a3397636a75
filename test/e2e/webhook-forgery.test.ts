/**
 * Forged and malformed webhook POSTs against the real host: each gets its own
 * status, and none reaches an alert sink or changes anything in state (the
 * incident raised by the one genuine notification stays byte-for-byte as it was).
 */
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signNylasBody } from "../../lib/grants/verify-nylas-signature.js";
import { MAX_BODY_BYTES } from "../../lib/grants/handle-nylas-webhook.js";
import { rawRequest, startWorld, type HttpResult, type World } from "../helpers/watchdog-world.js";

let w: World;
let before: Map<string, string>;
/** A genuine notification about a grant with no incident: accepting it would alert. */
let fresh: () => { body: string; sig: string; object: Record<string, unknown> };

beforeAll(async () => {
  w = await startWorld();
  // One genuine notification first, so there is an incident that must not change.
  const genuine = w.build("grant.expired", w.grants[0]!);
  w.grants[0]!.grant_status = "invalid";
  expect((await w.deliver(genuine)).status).toBe(200);
  expect(w.sim.sinks.received).toHaveLength(4);
  w.sim.sinks.clear();
  before = w.stateFiles();
  fresh = () => {
    const built = w.build("grant.expired", w.grants[1]!);
    return {
      body: built.body,
      sig: built.headers["x-nylas-signature"]!,
      object: JSON.parse(built.body) as Record<string, unknown>,
    };
  };
});

afterAll(async () => {
  await w?.close();
});

const JSON_CT: [string, string] = ["content-type", "application/json"];

function send(
  body: string | Buffer,
  headers: [string, string][],
  options: { method?: string; chunked?: boolean; chunkSize?: number } = {},
): Promise<HttpResult & { error?: string }> {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const all: [string, string][] = options.chunked
    ? headers
    : [...headers, ["content-length", String(bytes.length)]];
  const size = options.chunkSize ?? 64 * 1024;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return rawRequest(w.webhookUrl, { method: options.method ?? "POST", headers: all, chunks });
}

const signed = (body: string | Buffer): [string, string] => [
  "x-nylas-signature",
  signNylasBody(body, w.secrets.NYLAS_WEBHOOK_SECRET!),
];

function flipHex(sig: string, at = 10): string {
  const c = sig[at]!;
  return `${sig.slice(0, at)}${c === "0" ? "1" : "0"}${sig.slice(at + 1)}`;
}

function hugeNotification(): string {
  const n = fresh().object;
  (n.data as { object: Record<string, unknown> }).object.padding = "x".repeat(MAX_BODY_BYTES + 10);
  return JSON.stringify(n);
}

interface Case {
  name: string;
  status: number;
  run: () => Promise<HttpResult & { error?: string }>;
}

const CASES: Case[] = [
  { name: "no signature header", status: 401, run: async () => send(fresh().body, [JSON_CT]) },
  {
    name: "empty signature header",
    status: 401,
    run: async () => send(fresh().body, [JSON_CT, ["x-nylas-signature", ""]]),
  },
  {
    name: "signed with the wrong secret",
    status: 401,
    run: async () => {
      const { body } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", signNylasBody(body, "not-the-webhook-secret")]]);
    },
  },
  {
    name: "signed with the API key instead of the webhook secret",
    status: 401,
    run: async () => {
      const { body } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", signNylasBody(body, w.secrets.NYLAS_API_KEY!)]]);
    },
  },
  {
    name: "one byte of the body changed",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body.replace('"grant.expired"', '"grant.expirad"'), [JSON_CT, ["x-nylas-signature", sig]]);
    },
  },
  {
    name: "a trailing newline appended to the body",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(`${body}\n`, [JSON_CT, ["x-nylas-signature", sig]]);
    },
  },
  {
    name: "one hex character of the signature changed",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", flipHex(sig)]]);
    },
  },
  {
    name: "last hex character of the signature changed",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", flipHex(sig, 63)]]);
    },
  },
  {
    name: "signature truncated by one character",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", sig.slice(0, 63)]]);
    },
  },
  {
    name: "signature truncated to half",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", sig.slice(0, 32)]]);
    },
  },
  {
    name: "signature with an extra character",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", `${sig}0`]]);
    },
  },
  {
    name: "signature with whitespace inside",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", `${sig.slice(0, 32)} ${sig.slice(32)}`]]);
    },
  },
  {
    name: "signature base64-encoded",
    status: 401,
    run: async () => {
      const { body } = fresh();
      const b64 = createHmac("sha256", w.secrets.NYLAS_WEBHOOK_SECRET!).update(body).digest("base64");
      return send(body, [JSON_CT, ["x-nylas-signature", b64]]);
    },
  },
  {
    name: "signature under another header name",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature-256", sig], ["x-signature", sig]]);
    },
  },
  {
    name: "a genuine signature for another body",
    status: 401,
    run: async () => {
      const other = fresh();
      const { body } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", other.sig]]);
    },
  },
  {
    name: "replay: a valid signature on a body aimed at another grant",
    status: 401,
    run: async () => {
      const { sig, object } = fresh();
      (object.data as { object: Record<string, unknown> }).object.grant_id = w.grants[2]!.id;
      return send(JSON.stringify(object), [JSON_CT, ["x-nylas-signature", sig]]);
    },
  },
  {
    name: "replay: the valid signature re-serialised with different whitespace",
    status: 401,
    run: async () => {
      const { sig, object } = fresh();
      return send(JSON.stringify(object, null, 2), [JSON_CT, ["x-nylas-signature", sig]]);
    },
  },
  {
    name: "duplicate signature headers (both genuine)",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", sig], ["x-nylas-signature", sig]]);
    },
  },
  {
    name: "duplicate signature headers (forged, then genuine)",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", flipHex(sig)], ["x-nylas-signature", sig]]);
    },
  },
  { name: "empty body, no signature", status: 401, run: async () => send("", [JSON_CT]) },
  { name: "empty body, signed", status: 400, run: async () => send("", [JSON_CT, signed("")]) },
  {
    name: "body over 1 MiB with content-length, signed",
    status: 413,
    run: async () => {
      const body = hugeNotification();
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "body over 1 MiB chunked (no content-length), signed",
    status: 413,
    run: async () => {
      const body = hugeNotification();
      return send(body, [JSON_CT, signed(body)], { chunked: true });
    },
  },
  {
    name: "8 MiB chunked body, unsigned",
    status: 413,
    run: async () => send(Buffer.alloc(8 * MAX_BODY_BYTES, 0x7b), [JSON_CT], { chunked: true }),
  },
  {
    name: "PUT",
    status: 405,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", sig]], { method: "PUT" });
    },
  },
  {
    name: "DELETE",
    status: 405,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", sig]], { method: "DELETE" });
    },
  },
  {
    name: "PATCH",
    status: 405,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", sig]], { method: "PATCH" });
    },
  },
  { name: "HEAD", status: 405, run: async () => send("", [], { method: "HEAD" }) },
  {
    name: "non-JSON after a valid signature",
    status: 400,
    run: async () => send("grant.expired please", [JSON_CT, signed("grant.expired please")]),
  },
  {
    name: "truncated JSON after a valid signature",
    status: 400,
    run: async () => {
      const body = fresh().body.slice(0, -5);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "JSON with a byte-order mark, signed",
    status: 400,
    run: async () => {
      const body = `\ufeff${fresh().body}`;
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "JSON array, signed",
    status: 400,
    run: async () => {
      const body = JSON.stringify([fresh().object]);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  { name: "JSON null, signed", status: 400, run: async () => send("null", [JSON_CT, signed("null")]) },
  ...(["type", "id", "data"] as const).map((field): Case => ({
    name: `missing ${field}, signed`,
    status: 400,
    run: async () => {
      const { object } = fresh();
      delete object[field];
      const body = JSON.stringify(object);
      return send(body, [JSON_CT, signed(body)]);
    },
  })),
  {
    name: "numeric id, signed",
    status: 400,
    run: async () => {
      const { object } = fresh();
      object.id = 12345;
      const body = JSON.stringify(object);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "grant.expired without data.object.grant_id, signed",
    status: 400,
    run: async () => {
      const { object } = fresh();
      delete (object.data as { object: Record<string, unknown> }).object.grant_id;
      const body = JSON.stringify(object);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "data.object is an array, signed",
    status: 400,
    run: async () => {
      const { object } = fresh();
      (object.data as { object: unknown }).object = [w.grants[1]!.id];
      const body = JSON.stringify(object);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "unknown type (message.created), signed: ignored",
    status: 200,
    run: async () => {
      const { object } = fresh();
      object.type = "message.created";
      const body = JSON.stringify(object);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
];

CASES.push(
  {
    name: "signature upper-cased but of another body",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", flipHex(sig).toUpperCase()]]);
    },
  },
  {
    name: "sha256= prefix on a wrong digest",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", `sha256=${flipHex(sig)}`]]);
    },
  },
  {
    name: "gzip body signed over the decompressed bytes",
    status: 401,
    run: async () => {
      const { body, sig } = fresh();
      return send(gzipSync(body), [JSON_CT, ["content-encoding", "gzip"], ["x-nylas-signature", sig]]);
    },
  },
  {
    name: "gzip bytes, signed, sent without Content-Encoding",
    status: 400,
    run: async () => {
      const zipped = gzipSync(fresh().body);
      return send(zipped, [JSON_CT, signed(zipped)]);
    },
  },
  {
    name: "signed bytes that are not gzip, declared gzip",
    status: 400,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["content-encoding", "gzip"], ["x-nylas-signature", sig]]);
    },
  },
  {
    name: "a signed gzip bomb (1 KiB inflating past 1 MiB)",
    status: 413,
    run: async () => {
      const bomb = gzipSync(Buffer.alloc(MAX_BODY_BYTES * 8, 0x20));
      return send(bomb, [JSON_CT, ["content-encoding", "gzip"], signed(bomb)]);
    },
  },
  {
    name: "a grant id with CR/LF (log injection), signed",
    status: 400,
    run: async () => {
      const { object } = fresh();
      (object.data as { object: Record<string, unknown> }).object.grant_id = "g1\r\nINFO forged line";
      const body = JSON.stringify(object);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "a grant id of '.', signed (it would read the grant list)",
    status: 400,
    run: async () => {
      const { object } = fresh();
      (object.data as { object: Record<string, unknown> }).object.grant_id = ".";
      const body = JSON.stringify(object);
      return send(body, [JSON_CT, signed(body)]);
    },
  },
  {
    name: "a real grant.expired signed with Nylas's test-event secret",
    status: 401,
    run: async () => {
      const { body } = fresh();
      return send(body, [JSON_CT, ["x-nylas-signature", signNylasBody(body, "mock-webhook-secret")]]);
    },
  },
  {
    name: "an encoding Nylas never sends (br), signed",
    status: 415,
    run: async () => {
      const { body, sig } = fresh();
      return send(body, [JSON_CT, ["content-encoding", "br"], ["x-nylas-signature", sig]]);
    },
  },
);

describe("nylasWebhook refuses forged and malformed POSTs", () => {
  it("has at least 30 forged or malformed cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)("$name → $status, no alert, state unchanged", async ({ run, status }) => {
    const result = await run();
    expect(result.error, result.error).toBeUndefined();
    expect(result.status).toBe(status);
    if (status !== 405 && status !== 200) expect(JSON.parse(result.text)).toHaveProperty("error");
    expect(w.sim.sinks.received).toEqual([]);
    expect(w.stateFiles()).toEqual(before);
  });

  it("logged each signature rejection, and nothing about incidents or alerts", () => {
    const afterGenuine = w.logs.lines.slice(w.logs.lines.findIndex((l) => l.includes("Alerts:")) + 1);
    expect(afterGenuine.filter((l) => l.includes("invalid x-nylas-signature")).length).toBeGreaterThanOrEqual(
      CASES.filter((c) => c.status === 401).length,
    );
    expect(afterGenuine.filter((l) => /Incident|Alert/.test(l))).toEqual([]);
  });

  it("still accepts the genuine notification afterwards (the endpoint was not wedged)", async () => {
    const built = w.build("grant.expired", w.grants[1]!);
    const result = await w.deliver(built);
    expect(result.status).toBe(200);
    expect(w.sim.sinks.received.map((r) => r.sink).sort()).toEqual([
      "pagerduty",
      "slack",
      "teams",
      "webhook",
    ]);
  });
});
