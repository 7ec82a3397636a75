/**
 * How the simulated Nylas delivers webhook notifications, each behaviour
 * switched on per test: compressed delivery, signature header variants, nulls
 * in optional fields, retries with back-off, destinations drifting to
 * failing/failed, send-test-event, and the (unpaged) webhooks list.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { nylasApi as callNylasApi } from "../../helpers/nylas-api.js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { ManualClock } from "../../../lib/clock.js";
import {
  NYLAS_RETRY_STATUSES,
  startSimulator,
  TEST_EVENT_SECRET,
  type SimGrant,
  type SimWebhook,
  type Simulator,
} from "../../../lib/sim/index.js";

let sim: Simulator;
const clock = new ManualClock();

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  atMs: number;
}

/** A receiver answering POSTs from a plan (a status, or "hang" to never answer), then 200. */
class Receiver {
  readonly received: Received[] = [];
  plan: (number | "hang")[] = [];
  readonly server: http.Server;
  url = "";
  readonly #hung: http.ServerResponse[] = [];

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const challenge = new URL(req.url ?? "/", "http://x").searchParams.get("challenge");
        if (req.method === "GET" && challenge !== null) {
          res.writeHead(200, { "content-type": "text/plain" }).end(challenge);
          return;
        }
        this.received.push({
          path: req.url ?? "",
          headers: req.headers,
          raw: Buffer.concat(chunks),
          atMs: performance.now(),
        });
        const next = this.plan.shift() ?? 200;
        if (next === "hang") this.#hung.push(res);
        else res.writeHead(next, { "content-type": "application/json" }).end("{}");
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/nylas/webhook`;
  }

  reset(): void {
    this.received.length = 0;
    this.plan = [];
    for (const res of this.#hung.splice(0)) res.destroy();
  }

  async close(): Promise<void> {
    this.reset();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The JSON of the n-th POST, gunzipped when it was sent compressed. */
  json(n: number): Record<string, unknown> {
    const r = this.received[n]!;
    const bytes = r.headers["content-encoding"] === "gzip" ? gunzipSync(r.raw) : r.raw;
    return JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  }
}

const a = new Receiver();
const b = new Receiver();

beforeAll(async () => {
  sim = await startSimulator({ clock });
  await a.start();
  await b.start();
});
afterAll(async () => {
  await sim.close();
  await a.close();
  await b.close();
});
afterEach(async () => {
  await sim.nylas.settle({ cancelRetries: true });
  sim.tenant.nylas.webhooks.length = 0;
  sim.nylas.retryPolicy = { attempts: 1, baseDelayMs: 0 };
  sim.nylas.destinationHealth = undefined;
  sim.nylas.deliveryTimeoutMs = 10_000;
  sim.nylas.testEventSecret = "mock";
  sim.nylas.deliveries.length = 0;
  a.reset();
  b.reset();
});

const hmac = (bytes: Buffer | string, secret: string) =>
  createHmac("sha256", secret).update(bytes).digest("hex");

/** What Nylas's own receiver does with the header (nylas/cli webhookserver NormalizeSignature). */
const normalize = (header: string) => {
  const v = header.trim().toLowerCase();
  return v.startsWith("sha256=") ? v.slice(7) : v;
};

const nylasApi = (method: string, path: string, body?: unknown) => callNylasApi(sim, method, path, body);

function grant(): SimGrant {
  const g = sim.tenant.nylas.grants[0];
  if (!g) throw new Error("seeded grant missing");
  return g;
}

function hook(receiver: Receiver, extra: Partial<SimWebhook> = {}): SimWebhook {
  return sim.tenant.nylas.addWebhook({ webhook_url: receiver.url, ...extra });
}

// fidelity: W1
describe("compressed delivery", () => {
  it("is set through the API (create and PUT) and listed; a compressed destination gets gzip signed over the gzip bytes", async () => {
    const created = await nylasApi("POST", "/v3/webhooks", {
      trigger_types: ["grant.expired"],
      webhook_url: a.url,
      compressed_delivery: true,
    });
    expect(created.status).toBe(200);
    const data = created.body.data as { id: string; webhook_secret: string; compressed_delivery: boolean };
    expect(data.compressed_delivery).toBe(true);
    const listed = await nylasApi("GET", "/v3/webhooks");
    expect((listed.body.data as Record<string, unknown>[])[0]).toMatchObject({ compressed_delivery: true });
    expect((listed.body.data as Record<string, unknown>[])[0]).not.toHaveProperty("signatureStyle");
    const bad = await nylasApi("PUT", `/v3/webhooks/${data.id}`, { compressed_delivery: "yes" });
    expect(bad.status).toBe(400);

    const [delivery] = await sim.notify("grant.expired", grant());
    expect(delivery).toMatchObject({ status: 200, compressed: true });
    const got = a.received[0]!;
    expect(got.headers["content-encoding"]).toBe("gzip");
    expect(got.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const signature = got.headers["x-nylas-signature"];
    // Signed over the bytes as sent, not over the JSON inside them.
    expect(signature).toBe(hmac(got.raw, data.webhook_secret));
    const json = gunzipSync(got.raw).toString("utf8");
    expect(signature).not.toBe(hmac(json, data.webhook_secret));
    expect(JSON.parse(json)).toMatchObject({
      type: "grant.expired",
      data: { object: { grant_id: grant().id } },
    });
    expect(delivery!.body).toBe(json);

    // PUT turns it off: plain JSON again.
    const put = await nylasApi("PUT", `/v3/webhooks/${data.id}`, { compressed_delivery: false });
    expect((put.body.data as { compressed_delivery: boolean }).compressed_delivery).toBe(false);
    await sim.notify("grant.expired", grant());
    const plain = a.received[1]!;
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.headers["x-nylas-signature"]).toBe(hmac(plain.raw, data.webhook_secret));
    expect(JSON.parse(plain.raw.toString("utf8"))).toMatchObject({ type: "grant.expired" });
  });

  it("defaults to false in the API and on destinations added directly", async () => {
    hook(a);
    const listed = await nylasApi("GET", "/v3/webhooks");
    expect((listed.body.data as Record<string, unknown>[])[0]).toMatchObject({ compressed_delivery: false });
    await sim.notify("grant.deleted", grant());
    expect(a.received[0]!.headers["content-encoding"]).toBeUndefined();
  });

  it("buildNotification({ compressed: true }) gives gzip bodyBytes, the JSON body and a signature over the gzip", () => {
    const built = sim.buildNotification("grant.expired", grant(), {
      webhookSecret: "s3cret",
      compressed: true,
    });
    expect(built.compressed).toBe(true);
    expect(built.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(built.bodyBytes).toString("utf8")).toBe(built.body);
    expect(built.headers["x-nylas-signature"]).toBe(hmac(built.bodyBytes, "s3cret"));
    expect(built.headers["x-nylas-signature"]).not.toBe(hmac(built.body, "s3cret"));
    const plain = sim.buildNotification("grant.expired", grant(), { webhookSecret: "s3cret" });
    expect(plain.compressed).toBe(false);
    expect(plain.bodyBytes.toString("utf8")).toBe(plain.body);
    expect(plain.headers).not.toHaveProperty("content-encoding");
  });
});

// fidelity: W2
describe("signature header variants", () => {
  it("buildNotification writes each style; all normalise to the documented hex", () => {
    const expected = (body: Buffer) => hmac(body, "k");
    const styles = {
      plain: /^[0-9a-f]{64}$/,
      upper: /^[0-9A-F]{64}$/,
      prefixed: /^sha256=[0-9a-f]{64}$/,
      padded: /^\s+[0-9a-f]{64}\s+$/,
    } as const;
    for (const [style, shape] of Object.entries(styles)) {
      const built = sim.buildNotification("grant.updated", grant(), {
        webhookSecret: "k",
        signatureStyle: style as keyof typeof styles,
      });
      const header = built.headers["x-nylas-signature"]!;
      expect(header, style).toMatch(shape);
      expect(normalize(header), style).toBe(expected(built.bodyBytes));
    }
  });

  it("a destination's signatureStyle shapes what it receives (padding is trimmed by HTTP itself)", async () => {
    const w = hook(a, { signatureStyle: "upper" });
    await sim.notify("grant.expired", grant());
    w.signatureStyle = "prefixed";
    await sim.notify("grant.expired", grant());
    w.signatureStyle = "padded";
    await sim.notify("grant.expired", grant());
    const headers = a.received.map((r) => r.headers["x-nylas-signature"] as string);
    expect(headers[0]).toMatch(/^[0-9A-F]{64}$/);
    expect(headers[1]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(headers[2]).toMatch(/^[0-9a-f]{64}$/);
    a.received.forEach((r, i) => expect(normalize(headers[i]!)).toBe(hmac(r.raw, w.webhook_secret)));
    expect(headers[0]).not.toBe(hmac(a.received[0]!.raw, w.webhook_secret));
  });
});

// fidelity: W3
describe("nulls in optional fields", () => {
  it("buildNotification({ nulls: true }) sends email, provider and grant_updated_at as null where present", () => {
    const expired = JSON.parse(
      sim.buildNotification("grant.expired", grant(), { webhookSecret: "k", nulls: true }).body,
    ) as { data: { object: Record<string, unknown> } };
    expect(expired.data.object).toMatchObject({ email: null, provider: null, grant_updated_at: null });
    expect(expired.data.object.grant_id).toBe(grant().id);
    const updated = JSON.parse(
      sim.buildNotification("grant.updated", grant(), { webhookSecret: "k", nulls: true }).body,
    ) as { data: { object: Record<string, unknown> } };
    expect(updated.data.object).toMatchObject({ email: null, provider: null });
    expect(updated.data.object).not.toHaveProperty("grant_updated_at");
    const normal = JSON.parse(
      sim.buildNotification("grant.expired", grant(), { webhookSecret: "k" }).body,
    ) as {
      data: { object: Record<string, unknown> };
    };
    expect(normal.data.object).toMatchObject({ email: grant().email, provider: "microsoft" });
  });

  it("notify({ nulls: true }) delivers them", async () => {
    hook(a);
    await sim.notify("grant.deleted", grant(), { nulls: true });
    const object = (a.json(0) as { data: { object: Record<string, unknown> } }).data.object;
    expect(object).toMatchObject({ grant_id: grant().id, email: null, provider: null });
  });
});

// fidelity: W4
describe("retries", () => {
  it("default: one attempt, a 503 is not retried", async () => {
    hook(a);
    a.plan = [503];
    const [d] = await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    expect(d).toMatchObject({ status: 503, ok: false, willRetry: false, attempt: 1 });
    expect(a.received).toHaveLength(1);
  });

  it("retries a 503 with back-off, same id, next webhook_delivery_attempt, until delivered; settle() waits", async () => {
    const w = hook(a);
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 40 };
    a.plan = [503, 503, 200];
    const first = await sim.notify("grant.expired", grant());
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ status: 503, willRetry: true, attempt: 1 });
    expect(a.received).toHaveLength(1);
    await sim.nylas.settle();
    expect(a.received).toHaveLength(3);
    const bodies = a.received.map((_, i) => a.json(i) as { id: string; webhook_delivery_attempt: number });
    expect(new Set(bodies.map((x) => x.id)).size).toBe(1);
    expect(bodies.map((x) => x.webhook_delivery_attempt)).toEqual([1, 2, 3]);
    // Each attempt is signed over its own body.
    for (const r of a.received) expect(r.headers["x-nylas-signature"]).toBe(hmac(r.raw, w.webhook_secret));
    // Exponential: ≥ 40 ms, then ≥ 80 ms.
    const gaps = [a.received[1]!.atMs - a.received[0]!.atMs, a.received[2]!.atMs - a.received[1]!.atMs];
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75);
    expect(sim.nylas.deliveries.map((d) => [d.attempt, d.status, d.willRetry])).toEqual([
      [1, 503, true],
      [2, 503, true],
      [3, 200, false],
    ]);
  });

  it("retries exactly 408, 429, 502, 503, 504, 507; drops every other failure after one attempt", async () => {
    hook(a);
    sim.nylas.retryPolicy = { attempts: 2, baseDelayMs: 1 };
    const retryable = [408, 429, 502, 503, 504, 507];
    expect([...NYLAS_RETRY_STATUSES].sort()).toEqual(retryable);
    for (const status of [...retryable, 400, 401, 404, 410, 500, 501, 505]) {
      a.reset();
      a.plan = [status, 200];
      const [d] = await sim.notify("grant.expired", grant());
      await sim.nylas.settle();
      const retried = retryable.includes(status);
      expect(d?.willRetry, String(status)).toBe(retried);
      expect(
        a.received.map(
          (_, i) => (a.json(i) as { webhook_delivery_attempt: number }).webhook_delivery_attempt,
        ),
        String(status),
      ).toEqual(retried ? [1, 2] : [1]);
    }
  });

  it("gives up after `attempts`", async () => {
    hook(a);
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 1 };
    a.plan = [503, 503, 503, 503, 503];
    await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    expect(a.received).toHaveLength(3);
    expect(sim.nylas.deliveries.at(-1)).toMatchObject({ attempt: 3, status: 503, willRetry: false });
  });

  it("retryOn replaces the retryable statuses; factor and maxDelayMs shape the back-off", async () => {
    hook(a);
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 1, retryOn: [500] };
    a.plan = [500, 503];
    await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    expect(sim.nylas.deliveries.map((d) => [d.attempt, d.status, d.willRetry])).toEqual([
      [1, 500, true],
      [2, 503, false],
    ]);

    const gaps = () => a.received.slice(1).map((r, i) => r.atMs - a.received[i]!.atMs);
    // factor 5: 20 ms, then 100 ms.
    a.reset();
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 20, factor: 5 };
    a.plan = [503, 503, 200];
    await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    expect(a.received).toHaveLength(3);
    expect(gaps()[0]).toBeGreaterThanOrEqual(15);
    expect(gaps()[1]).toBeGreaterThanOrEqual(95);

    // A minute's base delay capped at 30 ms: both retries come within moments, not minutes.
    a.reset();
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 60_000, maxDelayMs: 30 };
    a.plan = [503, 503, 200];
    const started = performance.now();
    await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    expect(a.received).toHaveLength(3);
    expect(gaps().every((g) => g >= 25)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("retries a connection error and a timeout", async () => {
    sim.nylas.retryPolicy = { attempts: 2, baseDelayMs: 1 };
    sim.nylas.deliveryTimeoutMs = 100;
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/hook`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    sim.tenant.nylas.addWebhook({ webhook_url: deadUrl });
    hook(a);
    a.plan = ["hang", 200];
    await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    const byUrl = (url: string) => sim.nylas.deliveries.filter((d) => d.url === url).map((d) => d.status);
    expect(byUrl(deadUrl)).toEqual([0, 0]);
    expect(byUrl(a.url)).toEqual([0, 200]);
    expect(sim.nylas.deliveries.find((d) => d.url === a.url)?.error).toBeTruthy();
  });

  // fidelity: W4, W6
  it("a retry does not go to a destination paused meanwhile; cancelRetries() drops waiting retries", async () => {
    const w = hook(a);
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 30 };
    a.plan = [503];
    await sim.notify("grant.expired", grant());
    w.status = "pause";
    await sim.nylas.settle();
    expect(a.received).toHaveLength(1);

    w.status = "active";
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 60_000 };
    a.plan = [503];
    await sim.notify("grant.expired", grant());
    expect(sim.nylas.cancelRetries()).toBe(1);
    await sim.nylas.settle();
    expect(a.received).toHaveLength(2);
  });

  // fidelity: W4, W5
  it("fanOut: a retry goes to every destination of the trigger, also the one that got it", async () => {
    hook(a);
    hook(b);
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 1, fanOut: true };
    a.plan = [503, 200];
    await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    const attempts = (r: Receiver) =>
      r.received.map((_, i) => (r.json(i) as { webhook_delivery_attempt: number }).webhook_delivery_attempt);
    expect(attempts(a)).toEqual([1, 2]);
    expect(attempts(b)).toEqual([1, 2]);
    expect(new Set([a.json(0).id, b.json(1).id]).size).toBe(1);
  });
});

// fidelity: W6
describe("destinations drifting to failing and failed", () => {
  it("default: a destination that keeps failing stays active", async () => {
    const w = hook(a);
    a.plan = [500, 500, 500, 500, 500];
    for (let i = 0; i < 5; i++) await sim.notify("grant.expired", grant());
    expect(w.status).toBe("active");
  });

  it("goes failing (still delivered), then failed (no longer delivered); a PUT reactivates it", async () => {
    const w = hook(a);
    sim.nylas.destinationHealth = { failingAfter: 2, failedAfter: 4 };
    a.plan = [500, 500, 500, 500];
    await sim.notify("grant.expired", grant());
    expect(w.status).toBe("active");
    await sim.notify("grant.expired", grant());
    expect(w.status).toBe("failing");
    await sim.notify("grant.expired", grant());
    expect(a.received).toHaveLength(3);
    await sim.notify("grant.expired", grant());
    expect(w.status).toBe("failed");
    expect(w.status_updated_at).toBeTypeOf("number");
    expect(await sim.notify("grant.expired", grant())).toEqual([]);
    expect(a.received).toHaveLength(4);
    const listed = await nylasApi("GET", "/v3/webhooks");
    expect((listed.body.data as { status: string }[])[0]!.status).toBe("failed");

    const put = await nylasApi("PUT", `/v3/webhooks/${w.id}`, { status: "active" });
    expect(put.status).toBe(200);
    expect(w.status).toBe("active");
    expect(sim.nylas.destinationFailures(w.id)).toBe(0);
    a.plan = [500];
    await sim.notify("grant.expired", grant());
    expect(w.status).toBe("active");
  });

  it("a delivered attempt turns failing back to active; retries count as attempts", async () => {
    const w = hook(a);
    sim.nylas.destinationHealth = { failingAfter: 2, failedAfter: 10 };
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 1 };
    a.plan = [503, 503, 200];
    await sim.notify("grant.expired", grant());
    expect(w.status).toBe("active");
    await sim.nylas.settle();
    expect(a.received).toHaveLength(3);
    // It went failing on the second 503 and back to active on the 200.
    expect(w.status_updated_at).toBeTypeOf("number");
    expect(w.status).toBe("active");
    expect(sim.nylas.destinationFailures(w.id)).toBe(0);
    a.plan = [503, 503];
    sim.nylas.retryPolicy = { attempts: 2, baseDelayMs: 1 };
    await sim.notify("grant.expired", grant());
    await sim.nylas.settle();
    expect(w.status).toBe("failing");
    await sim.notify("grant.expired", grant());
    expect(w.status).toBe("active");
  });
});

// fidelity: W7
describe("POST /v3/webhooks/send-test-event", () => {
  it("POSTs the documented mock notification, signed with mock-webhook-secret, and answers success", async () => {
    const res = await nylasApi("POST", "/v3/webhooks/send-test-event", {
      trigger_type: "grant.expired",
      webhook_url: a.url,
    });
    expect(res).toMatchObject({ status: 200, body: { data: "success" } });
    expect(a.received).toHaveLength(1);
    const body = a.json(0);
    expect(body).toMatchObject({
      specversion: "1.0",
      type: "grant.expired",
      id: "mock-id",
      data: {
        application_id: "NYLAS_APPLICATION_ID",
        object: { code: 25009, grant_id: "NYLAS_GRANT_ID", integration_id: "NYLAS_INTEGRATION_ID" },
      },
    });
    expect(body).not.toHaveProperty("webhook_delivery_attempt");
    expect(a.received[0]!.headers["x-nylas-signature"]).toBe(hmac(a.received[0]!.raw, TEST_EVENT_SECRET));
    expect(sim.nylas.deliveries.at(-1)).toMatchObject({
      test: true,
      notificationId: "mock-id",
      webhookId: "",
    });
  });

  // fidelity: W1, W7
  it("a registered destination lends compression; testEventSecret 'destination' signs with its secret", async () => {
    const w = hook(a, { compressed_delivery: true });
    // Default: the mock secret even for a registered URL.
    await sim.nylas.sendTestEvent("grant.created", a.url);
    expect(a.received[0]!.headers["x-nylas-signature"]).toBe(hmac(a.received[0]!.raw, TEST_EVENT_SECRET));
    a.reset();
    sim.nylas.testEventSecret = "destination";
    const d = await sim.nylas.sendTestEvent("grant.created", a.url);
    expect(d).toMatchObject({ ok: true, webhookId: w.id, compressed: true, test: true });
    const got = a.received[0]!;
    expect(got.headers["content-encoding"]).toBe("gzip");
    expect(got.headers["x-nylas-signature"]).toBe(hmac(got.raw, w.webhook_secret));
    expect(a.json(0)).toMatchObject({ id: "mock-id", data: { object: { grant_id: "NYLAS_GRANT_ID" } } });
  });

  // fidelity: W4, W6, W7
  it("is not retried and not counted towards health; a failure answers data 'failed'", async () => {
    const w = hook(a);
    sim.nylas.retryPolicy = { attempts: 3, baseDelayMs: 1 };
    sim.nylas.destinationHealth = { failingAfter: 1, failedAfter: 2 };
    a.plan = [503];
    const res = await nylasApi("POST", "/v3/webhooks/send-test-event", {
      trigger_type: "calendar.created",
      webhook_url: a.url,
    });
    expect(res.body.data).toBe("failed");
    await sim.nylas.settle();
    expect(a.received).toHaveLength(1);
    expect(w.status).toBe("active");
    expect(a.json(0)).toMatchObject({ type: "calendar.created", id: "mock-id" });
  });

  it("400 without trigger_type or webhook_url, or for an unknown trigger; 405 for GET", async () => {
    for (const body of [
      { webhook_url: a.url },
      { trigger_type: "grant.expired" },
      { trigger_type: "grant.exploded", webhook_url: a.url },
      { trigger_type: "grant.expired", webhook_url: "not a url" },
    ]) {
      const res = await nylasApi("POST", "/v3/webhooks/send-test-event", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await nylasApi("GET", "/v3/webhooks/send-test-event")).status).toBe(405);
    expect(a.received).toHaveLength(0);
  });
});

// fidelity: W8
describe("GET /v3/webhooks", () => {
  it("is not paged (the spec documents no paging for it): every destination, no next_cursor", async () => {
    for (let i = 0; i < 12; i++) sim.tenant.nylas.addWebhook({ webhook_url: `${a.url}?n=${i}` });
    const res = await nylasApi("GET", "/v3/webhooks?limit=5");
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(12);
    expect(res.body).not.toHaveProperty("next_cursor");
  });
});
