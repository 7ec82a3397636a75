import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: false });
});
afterAll(async () => {
  await sim.close();
});

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

describe("simulated alert sinks", () => {
  // fidelity: S1
  it("plays a Slack incoming webhook", async () => {
    const okRes = await post(sim.sinks.urls.slack, JSON.stringify({ text: "secret expires in 13 days" }));
    expect(okRes.status).toBe(200);
    expect(await okRes.text()).toBe("ok");
    const notJson = await post(sim.sinks.urls.slack, "text=hi");
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toBe("invalid_payload");
    const empty = await post(sim.sinks.urls.slack, JSON.stringify({ username: "watchdog" }));
    expect(empty.status).toBe(400);
    expect(await empty.text()).toBe("no_text");
    expect(sim.sinks.json("slack")[0]).toEqual({ text: "secret expires in 13 days" });
  });

  // fidelity: S2
  it("plays a Teams Workflows webhook", async () => {
    const res = await post(sim.sinks.urls.teams, JSON.stringify({ type: "message", attachments: [] }));
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("");
  });

  // fidelity: S3
  it("plays PagerDuty Events API v2", async () => {
    const event = {
      routing_key: "R0123456789012345678901234567890",
      event_action: "trigger",
      dedup_key: "secret-watchdog:expiry:app-1",
      payload: { summary: "Azure secret expires in 3 days", source: "secret-watchdog", severity: "critical" },
    };
    const res = await post(sim.sinks.urls.pagerduty, JSON.stringify(event));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      status: "success",
      message: "Event processed",
      dedup_key: event.dedup_key,
    });

    const bad = await post(
      sim.sinks.urls.pagerduty,
      JSON.stringify({ event_action: "trigger", payload: {} }),
    );
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { status: string; message: string; errors: string[] };
    expect(body.status).toBe("invalid event");
    expect(body.message).toBe("Event object is invalid");
    expect(body.errors.length).toBeGreaterThanOrEqual(3);

    const longKey = await post(
      sim.sinks.urls.pagerduty,
      JSON.stringify({ ...event, dedup_key: "k".repeat(256) }),
    );
    expect(longKey.status).toBe(400);
  });

  it("records a generic webhook with its headers and raw body", async () => {
    const raw = JSON.stringify({ event: "incident.triggered" });
    const res = await post(sim.sinks.urls.webhook, raw, { "x-watchdog-signature": "sha256=abc" });
    expect(res.status).toBe(200);
    const receipt = sim.sinks.of("webhook").at(-1);
    expect(receipt?.body).toBe(raw);
    expect(receipt?.headers["x-watchdog-signature"]).toBe("sha256=abc");
  });
});

describe("child processes", () => {
  it("trust the simulator through NODE_EXTRA_CA_CERTS from env()", async () => {
    const env = sim.env();
    expect(Object.keys(env).sort()).toEqual([
      "AZURE_AUTHORITY_HOST",
      "AZURE_CLIENT_ID",
      "AZURE_CLIENT_SECRET",
      "AZURE_TENANT_ID",
      "GRAPH_ENDPOINT",
      "NODE_EXTRA_CA_CERTS",
      "NYLAS_API_KEY",
      "NYLAS_API_URI",
    ]);
    const script =
      "fetch(process.argv[1]).then((r) => console.log(r.status), (e) => console.log('failed', e.cause?.code))";
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["-e", script, `${env.NYLAS_API_URI}/v3/grants`],
      {
        env: { PATH: process.env.PATH ?? "", NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS },
      },
    );
    expect(stdout.trim()).toBe("401");
  });
});

describe("fault injection", () => {
  it("takes a sink down for N requests, then lets requests through", async () => {
    sim.faults.add({ service: "sinks", path: /^\/slack\//, times: 2, response: { status: 503 } });
    const before = sim.sinks.of("slack").length;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post(sim.sinks.urls.slack, JSON.stringify({ text: `try ${i}` }))).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(sim.sinks.of("slack").length).toBe(before + 1);
    expect(sim.faults.active).toHaveLength(0);
  });

  it("answers before handling (nothing changes) or after handling (the change sticks)", async () => {
    const key = sim.tenant.nylas.apiKey;
    sim.tenant.nylas.connector = {
      id: "c1",
      provider: "microsoft",
      name: "Microsoft",
      settings: { client_id: "a", tenant: "common", client_secret: "old" },
      scope: ["offline_access"],
    };
    const patch = (secret: string) =>
      fetch(`${sim.urls.nylasApiUri}/v3/connectors/microsoft`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ settings: { client_id: "a", tenant: "common", client_secret: secret } }),
      });
    sim.faults.add({
      service: "nylas",
      method: "PATCH",
      path: "/v3/connectors/microsoft",
      response: { status: 500 },
    });
    const before = await patch("new-1");
    expect(before.status).toBe(500);
    expect(((await before.json()) as { error: { type: string } }).error.type).toBe("api_error");
    expect(sim.tenant.nylas.connector.settings.client_secret).toBe("old");

    sim.faults.add({
      service: "nylas",
      method: "PATCH",
      path: "/v3/connectors/microsoft",
      when: "after",
      response: { status: 502, body: "Bad Gateway" },
    });
    const after = await patch("new-2");
    expect(after.status).toBe(502);
    expect(await after.text()).toBe("Bad Gateway");
    expect(sim.tenant.nylas.connector.settings.client_secret).toBe("new-2");
  });

  it("resets the connection, delays an answer, and hangs until the client gives up", async () => {
    sim.faults.add({ service: "sinks", path: "/webhook/watchdog", response: { reset: true } });
    await expect(post(sim.sinks.urls.webhook, "{}")).rejects.toThrow();

    sim.faults.add({ service: "sinks", path: "/webhook/watchdog", response: { delayMs: 300 } });
    const started = Date.now();
    expect((await post(sim.sinks.urls.webhook, "{}")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);

    sim.faults.add({ service: "sinks", path: "/webhook/watchdog", response: { hang: true } });
    await expect(
      fetch(sim.sinks.urls.webhook, { method: "POST", body: "{}", signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    const hung = sim.requests.filter((r) => r.path === "/webhook/watchdog").at(-1);
    expect(hung?.status).toBe(0);
  });

  it("closes even while a request hangs", async () => {
    const other = await startSimulator({ seed: false });
    other.faults.add({ service: "graph", path: /.*/, response: { hang: true } });
    const pending = fetch(`${other.urls.graphEndpoint}/v1.0/applications`).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it("closes even while a client is still in its TLS handshake", async () => {
    for (const waitMs of [0, 1, 2, 5]) {
      const other = await startSimulator({ seed: false });
      other.faults.add({ service: "graph", path: /.*/, response: { hang: true } });
      const pending = fetch(`${other.urls.graphEndpoint}/v1.0/applications`).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      const started = Date.now();
      await other.close();
      expect(Date.now() - started, `closed ${waitMs} ms after the request started`).toBeLessThan(2000);
      expect(await pending).toBeInstanceOf(Error);
    }
  });

  it("injects Entra failures the SDK sees", async () => {
    sim.faults.add({ service: "entra", path: /\/oauth2\/v2\.0\/token$/, response: { status: 503 } });
    const res = await fetch(`${sim.urls.authorityHost}/${sim.tenant.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: sim.watchdog.appId,
      }).toString(),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: string; error_codes: number[] };
    expect(body.error).toBe("temporarily_unavailable");
  });
});
