import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { nylasApi as callNylasApi } from "../../helpers/nylas-api.js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ManualClock, DAY_MS } from "../../../lib/clock.js";
import {
  GRANTS_QUERY_PARAMETERS,
  startSimulator,
  type SimApp,
  type Simulator,
} from "../../../lib/sim/index.js";

let sim: Simulator;
const clock = new ManualClock();
const posted: string[] = [];
let receiver: http.Server;

beforeAll(async () => {
  sim = await startSimulator({ clock });
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST")
        posted.push((JSON.parse(Buffer.concat(chunks).toString()) as { type: string }).type);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  sim.tenant.nylas.addWebhook({
    webhook_url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
  });
});
afterAll(async () => {
  await sim.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});
afterEach(() => {
  sim.tenant.nylas.strictGrantQuery = true;
  sim.tenant.nylas.requireCodeExchange = true; // the default, as Nylas does
  posted.length = 0;
});

const nylasApi = (method: string, path: string, body?: unknown) => callNylasApi(sim, method, path, body);

const errorOf = (body: Record<string, unknown>) => body.error as { type: string; message: string };

// fidelity: N4
describe("GET /v3/grants takes only the query parameters the spec lists", () => {
  it("answers 400 invalid_request_error to an unknown parameter, by default", async () => {
    expect(sim.tenant.nylas.strictGrantQuery).toBe(true);
    const res = await nylasApi("GET", "/v3/grants?limit=10&status=valid");
    expect(res.status).toBe(400);
    expect(errorOf(res.body)).toMatchObject({ type: "invalid_request_error" });
    expect(errorOf(res.body).message).toContain("status");
    // camelCase is not snake_case: a client that forgot to convert is refused too.
    expect((await nylasApi("GET", "/v3/grants?grantStatus=invalid")).status).toBe(400);
  });

  it("accepts every listed parameter, and the product's own paging request", async () => {
    const product = await nylasApi(
      "GET",
      "/v3/grants?limit=200&offset=0&sort_by=created_at&order_by=asc&provider=microsoft&grant_status=valid",
    );
    expect(product.status).toBe(200);
    const values: Record<string, string> = { before: "9999999999", since: "0", limit: "5", offset: "0" };
    for (const name of GRANTS_QUERY_PARAMETERS) {
      const value = values[name] ?? (name === "sort_by" ? "updated_at" : name === "order_by" ? "asc" : "x");
      const q = name === "grant_status" ? "grant_status=valid" : `${name}=${value}`;
      expect((await nylasApi("GET", `/v3/grants?${q}`)).status, name).toBe(200);
    }
  });

  it("accepts unknown parameters with strictGrantQuery = false", async () => {
    sim.tenant.nylas.strictGrantQuery = false;
    expect((await nylasApi("GET", "/v3/grants?limit=10&status=valid")).status).toBe(200);
  });

  // fidelity: N3
  it("answers 400 to a limit outside 1..200 or not an integer", async () => {
    for (const limit of ["0", "-1", "201", "1.5", "ten"]) {
      const res = await nylasApi("GET", `/v3/grants?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(errorOf(res.body).type).toBe("invalid_request_error");
    }
    for (const limit of ["1", "200"])
      expect((await nylasApi("GET", `/v3/grants?limit=${limit}`)).status).toBe(200);
  });
});

// fidelity: N2
describe("the connector takes PATCH, not PUT", () => {
  it("answers PUT with 405 and an Allow header, and changes nothing", async () => {
    const before = JSON.stringify(sim.tenant.nylas.connector);
    const res = await fetch(`${sim.urls.nylasApiUri}/v3/connectors/microsoft`, {
      method: "PUT",
      headers: { authorization: `Bearer ${sim.tenant.nylas.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ settings: { client_id: "x", client_secret: "y", tenant: "common" } }),
    });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, PATCH, DELETE");
    expect(JSON.stringify(sim.tenant.nylas.connector)).toBe(before);
  });
});

// fidelity: N12
describe("hosted auth completes only at the code exchange (requireCodeExchange)", () => {
  /** Puts a fresh, live secret into the connector; returns its keyId. */
  function freshConnectorSecret(): string {
    const app = sim.nylasApp as SimApp;
    const fresh = sim.tenant.addSecret(app.id, {
      endDateTime: new Date(clock.now().getTime() + 365 * DAY_MS),
    });
    const connector = sim.tenant.nylas.connector;
    if (!connector) throw new Error("connector missing");
    connector.settings = { ...connector.settings, client_secret: fresh.value };
    return fresh.keyId;
  }

  const authUrl = (email: string) => {
    const url = new URL(`${sim.urls.nylasApiUri}/v3/connect/auth`);
    url.searchParams.set("client_id", sim.tenant.nylas.applicationId);
    url.searchParams.set("redirect_uri", sim.tenant.nylas.callbackUris[0] ?? "");
    url.searchParams.set("response_type", "code");
    url.searchParams.set("provider", "microsoft");
    url.searchParams.set("login_hint", email);
    return url;
  };

  const exchange = (code: string) => sim.exchangeCode(code, sim.tenant.nylas.callbackUris[0] ?? "");

  it("a re-authenticated grant keeps its status and secret until the callback exchanges the code", async () => {
    sim.tenant.nylas.requireCodeExchange = true;
    const grant = sim.tenant.nylas.grants[0];
    if (!grant) throw new Error("seeded grant missing");
    grant.grant_status = "invalid";
    const oldKey = grant.secretKeyId;
    const newKey = freshConnectorSecret();
    clock.advance(60_000);

    const res = await fetch(authUrl(grant.email), { redirect: "manual" });
    expect(res.status).toBe(302);
    const code = new URL(res.headers.get("location") ?? "").searchParams.get("code") ?? "";
    expect(code).not.toBe("");
    await sim.nylas.settle();
    expect(grant).toMatchObject({ grant_status: "invalid", secretKeyId: oldKey });
    expect(posted).toEqual([]);
    expect(sim.nylas.pendingExchanges()).toEqual([{ code, email: grant.email }]);

    const token = await exchange(code);
    expect(token.status).toBe(200);
    expect(((await token.json()) as { grant_id: string }).grant_id).toBe(grant.id);
    expect(grant).toMatchObject({
      grant_status: "valid",
      secretKeyId: newKey,
      updated_at: Math.floor(clock.now().getTime() / 1000),
    });
    await sim.nylas.settle();
    expect(posted).toEqual(["grant.updated"]);
    expect(sim.nylas.authLog.at(-1)).toMatchObject({ outcome: "reauthenticated", grantId: grant.id });
    // The code is single-use.
    expect((await exchange(code)).status).toBe(400);
    expect(sim.nylas.pendingExchanges()).toEqual([]);
  });

  it("a new grant does not exist before the exchange", async () => {
    sim.tenant.nylas.requireCodeExchange = true;
    const result = sim.nylas.authorize(Object.fromEntries(authUrl("pending.user@contoso.com").searchParams));
    expect(result).toMatchObject({ kind: "redirect", pendingExchange: true });
    expect(result).not.toHaveProperty("grant");
    expect(sim.tenant.nylas.grantByEmail("pending.user@contoso.com")).toBeUndefined();
    const code = result.kind === "redirect" ? (result.code ?? "") : "";
    const grant = sim.nylas.redeemCode(code, sim.tenant.nylas.callbackUris[0]);
    expect(grant).toMatchObject({ email: "pending.user@contoso.com", grant_status: "valid" });
    expect(sim.tenant.nylas.grantByEmail("pending.user@contoso.com")).toBe(grant);
    await sim.nylas.settle();
    expect(posted).toEqual(["grant.created"]);
  });

  it("signIn() performs the exchange itself, as the application's callback would", async () => {
    sim.tenant.nylas.requireCodeExchange = true;
    const grant = await sim.nylas.signIn("signed.in@contoso.com");
    expect(grant).toMatchObject({ email: "signed.in@contoso.com", grant_status: "valid" });
    expect(posted).toEqual(["grant.created"]);
    expect(sim.nylas.pendingExchanges()).toEqual([]);
  });

  it("authorizeOnly() stops before the exchange even with the knob off; authorize() with it off does not", async () => {
    sim.tenant.nylas.requireCodeExchange = false;
    const held = sim.nylas.authorizeOnly(Object.fromEntries(authUrl("held@contoso.com").searchParams));
    expect(held).toMatchObject({ kind: "redirect", pendingExchange: true });
    expect(sim.tenant.nylas.grantByEmail("held@contoso.com")).toBeUndefined();

    const direct = sim.nylas.authorize(Object.fromEntries(authUrl("direct@contoso.com").searchParams));
    expect(direct).toMatchObject({
      kind: "redirect",
      grant: { email: "direct@contoso.com", grant_status: "valid" },
    });
    expect(direct).not.toHaveProperty("pendingExchange");
    await sim.nylas.settle();
  });

  it("a sign-in Microsoft refuses fails at authorize, exchange required or not", async () => {
    sim.tenant.nylas.requireCodeExchange = true;
    const connector = sim.tenant.nylas.connector;
    if (!connector) throw new Error("connector missing");
    const saved = connector.settings.client_secret;
    connector.settings.client_secret = "wrong";
    try {
      await expect(sim.nylas.signIn("refused@contoso.com")).rejects.toThrow(/Provider refused/);
      expect(sim.nylas.pendingExchanges().map((p) => p.email)).not.toContain("refused@contoso.com");
      expect(sim.tenant.nylas.grantByEmail("refused@contoso.com")).toBeUndefined();
    } finally {
      connector.settings.client_secret = saved;
    }
  });
});
