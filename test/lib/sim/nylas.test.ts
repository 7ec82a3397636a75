import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac, timingSafeEqual } from "node:crypto";
import NylasImport from "nylas";
import { ManualClock, DAY_MS } from "../../../lib/clock.js";
import { startSimulator, type SimApp, type Simulator } from "../../../lib/sim/index.js";

// nylas ships ESM code with CJS-flavoured types: at runtime the default import is the class.
const Nylas = ((NylasImport as unknown as { default?: unknown }).default ??
  NylasImport) as typeof NylasImport.default;
type NylasClient = InstanceType<typeof Nylas>;

let sim: Simulator;
let nylas: NylasClient;
const clock = new ManualClock();

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let receiver: http.Server;
let receiverUrl: string;

beforeAll(async () => {
  sim = await startSimulator({ clock });
  nylas = new Nylas({ apiKey: sim.tenant.nylas.apiKey, apiUri: sim.urls.nylasApiUri });
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const challenge = new URL(req.url ?? "/", "http://x").searchParams.get("challenge");
      res.writeHead(200, { "content-type": "text/plain" }).end(challenge ?? "");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/nylas/webhook`;
});
afterAll(async () => {
  await sim.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

function verify(body: string, signature: string | undefined, secret: string): boolean {
  const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("hex"));
  const given = Buffer.from(signature ?? "");
  return expected.length === given.length && timingSafeEqual(expected, given);
}

describe("simulated Nylas v3 through the nylas SDK", () => {
  it("returns the Microsoft connector without its client secret", async () => {
    const { data } = await nylas.connectors.find({ provider: "microsoft" });
    const nylasApp = sim.nylasApp as SimApp;
    expect(data.provider).toBe("microsoft");
    expect(data.settings).toEqual({ clientId: nylasApp.appId, tenant: "common" });
    expect(JSON.stringify(data)).not.toContain(String(sim.tenant.nylas.connector?.settings.client_secret));
    expect(data.scope).toContain("offline_access");
  });

  // fidelity: N3
  it("lists grants with limit/offset, sorting and filters", async () => {
    for (let i = 0; i < 25; i++) {
      sim.tenant.nylas.addGrant({
        email: `user${i}@contoso.com`,
        created_at: 1_700_000_000 + i,
        grant_status: i % 5 === 0 ? "invalid" : "valid",
      });
    }
    const first = await nylas.grants.list({ queryParams: { limit: 10, offset: 0 } });
    expect(first.data).toHaveLength(10);
    expect(first.data[0]?.createdAt).toBeGreaterThanOrEqual(first.data[1]?.createdAt ?? 0);
    const all: string[] = [];
    for (let offset = 0; ; offset += 7) {
      const page = await nylas.grants.list({
        queryParams: { limit: 7, offset, sortBy: "created_at", orderBy: "asc" },
      });
      all.push(...page.data.map((g) => g.id));
      if (page.data.length < 7) break;
    }
    expect(all).toHaveLength(sim.tenant.nylas.grants.length);
    expect(new Set(all).size).toBe(all.length);

    const invalid = await nylas.grants.list({ queryParams: { grantStatus: "invalid", limit: 200 } });
    expect(invalid.data).toHaveLength(5);
    expect(invalid.data.every((g) => g.grantStatus === "invalid")).toBe(true);
    const one = await nylas.grants.list({ queryParams: { email: "USER3@contoso.com" } });
    expect(one.data.map((g) => g.email)).toEqual(["user3@contoso.com"]);

    const raw = await fetch(`${sim.urls.nylasApiUri}/v3/grants?limit=201`, {
      headers: { authorization: `Bearer ${sim.tenant.nylas.apiKey}` },
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("finds a grant, and answers 404 not_found_error for an unknown one", async () => {
    const grant = sim.tenant.nylas.grants[0];
    const { data } = await nylas.grants.find({ grantId: grant?.id ?? "" });
    expect(data).toMatchObject({
      id: grant?.id,
      email: grant?.email,
      provider: "microsoft",
      grantStatus: "valid",
    });
    expect(data).not.toHaveProperty("secretKeyId");
    await expect(nylas.grants.find({ grantId: "does-not-exist" })).rejects.toMatchObject({
      statusCode: 404,
      type: "not_found_error",
    });
  });

  // fidelity: N2
  it("answers the SDK's connectors.update (PUT) with 405; only PATCH is supported", async () => {
    await expect(
      nylas.connectors.update({ provider: "microsoft", requestBody: { settings: { clientSecret: "x" } } }),
    ).rejects.toMatchObject({ statusCode: 405 });
  });

  // fidelity: N1
  it("replaces the nested settings object wholesale on PATCH", async () => {
    const before = { ...sim.tenant.nylas.connector?.settings };
    const res = await fetch(`${sim.urls.nylasApiUri}/v3/connectors/microsoft`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${sim.tenant.nylas.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ settings: { client_secret: "only-the-secret" } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const body = (await res.json()) as { request_id: string; data: { settings: Record<string, unknown> } };
    expect(body.data.settings).toEqual({});
    expect(sim.tenant.nylas.connector?.settings).toEqual({ client_secret: "only-the-secret" });

    const bad = await fetch(`${sim.urls.nylasApiUri}/v3/connectors/microsoft`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${sim.tenant.nylas.apiKey}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    // Put the full settings back, the way a correct rotation sends them.
    const restore = await fetch(`${sim.urls.nylasApiUri}/v3/connectors/microsoft`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${sim.tenant.nylas.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ settings: before }),
    });
    expect(restore.status).toBe(200);
    expect(sim.tenant.nylas.connector?.settings).toEqual(before);
  });

  // fidelity: N13
  it("answers 401 from the wrong region and to a wrong API key", async () => {
    const eu = new Nylas({ apiKey: sim.tenant.nylas.apiKey, apiUri: sim.urls.nylasEuApiUri });
    await expect(eu.grants.list()).rejects.toMatchObject({ statusCode: 401 });
    const wrongKey = new Nylas({ apiKey: "nyk_wrong", apiUri: sim.urls.nylasApiUri });
    await expect(wrongKey.connectors.find({ provider: "microsoft" })).rejects.toMatchObject({
      statusCode: 401,
      type: "unauthorized",
    });
  });

  it("creates a webhook after the challenge handshake, returning its secret once", async () => {
    const created = await nylas.webhooks.create({
      requestBody: {
        triggerTypes: ["grant.expired", "grant.updated", "grant.created", "grant.deleted"] as never,
        webhookUrl: receiverUrl,
        description: "watchdog",
      },
    });
    expect(created.data.webhookSecret).toBeTruthy();
    expect(received.some((r) => r.method === "GET" && r.url.includes("challenge="))).toBe(true);
    const listed = await nylas.webhooks.list();
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).not.toHaveProperty("webhookSecret");
  });

  // fidelity: N8, N12
  it("re-authenticates an existing grant through the hosted-auth link, with the connector's current secret", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const grant = sim.tenant.nylas.grants[0];
    if (!grant) throw new Error("seeded grant missing");
    // Rotate: a new secret in Azure, put into the connector (full settings).
    const fresh = sim.tenant.addSecret(nylasApp.id, {
      endDateTime: new Date(clock.now().getTime() + 365 * DAY_MS),
    });
    const connector = sim.tenant.nylas.connector;
    if (!connector) throw new Error("connector missing");
    connector.settings = { ...connector.settings, client_secret: fresh.value };
    clock.advance(DAY_MS);

    const url = nylas.auth.urlForOAuth2({
      clientId: sim.tenant.nylas.applicationId,
      redirectUri: sim.tenant.nylas.callbackUris[0] ?? "",
      provider: "microsoft",
      loginHint: grant.email,
      state: "reauth-1",
    });
    expect(url.startsWith(`${sim.urls.nylasApiUri}/v3/connect/auth?`)).toBe(true);
    received.length = 0;
    const res = await fetch(url, { redirect: "manual" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") ?? "");
    expect(location.searchParams.get("code")).toBeTruthy();
    expect(location.searchParams.get("state")).toBe("reauth-1");
    // Nothing changes until the application's callback exchanges the code (requireCodeExchange, default).
    expect(grant.secretKeyId).not.toBe(fresh.keyId);
    // The exchange, as the application's callback does it with the SDK; it works once.
    const token = await nylas.auth.exchangeCodeForToken({
      clientId: sim.tenant.nylas.applicationId,
      clientSecret: sim.tenant.nylas.apiKey,
      redirectUri: sim.tenant.nylas.callbackUris[0] ?? "",
      code: location.searchParams.get("code") ?? "",
    });
    expect(token.grantId).toBe(grant.id);
    expect(grant.secretKeyId).toBe(fresh.keyId);
    expect(grant.grant_status).toBe("valid");
    expect(grant.updated_at).toBe(Math.floor(clock.now().getTime() / 1000));

    await sim.nylas.settle();
    const post = received.find((r) => r.method === "POST");
    const notification = JSON.parse(post?.body ?? "{}") as {
      type: string;
      data: { object: Record<string, unknown> };
    };
    expect(notification.type).toBe("grant.updated");
    expect(notification.data.object).toMatchObject({
      grant_id: grant.id,
      code: 25027,
      reauthentication_flag: true,
    });
    const secret = sim.tenant.nylas.webhooks[0]?.webhook_secret ?? "";
    expect(verify(post?.body ?? "", post?.headers["x-nylas-signature"] as string | undefined, secret)).toBe(
      true,
    );

    // A second exchange of the same code is refused.
    await expect(
      nylas.auth.exchangeCodeForToken({
        clientId: sim.tenant.nylas.applicationId,
        clientSecret: sim.tenant.nylas.apiKey,
        redirectUri: sim.tenant.nylas.callbackUris[0] ?? "",
        code: location.searchParams.get("code") ?? "",
      }),
    ).rejects.toThrow(/already redeemed/);
  });

  it("redirects with provider_code_request_failed when the connector's secret is expired or wrong", async () => {
    const connector = sim.tenant.nylas.connector;
    if (!connector) throw new Error("connector missing");
    const saved = connector.settings.client_secret;
    connector.settings.client_secret = "a-secret-id-pasted-by-mistake";
    try {
      const url = nylas.auth.urlForOAuth2({
        clientId: sim.tenant.nylas.applicationId,
        redirectUri: sim.tenant.nylas.callbackUris[0] ?? "",
        provider: "microsoft",
        loginHint: "new.user@contoso.com",
      });
      const res = await fetch(url, { redirect: "manual" });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get("location") ?? "");
      expect(location.searchParams.get("error")).toBe("provider_code_request_failed");
      expect(location.searchParams.get("error_code")).toBe("45001");
      expect(sim.nylas.authLog.at(-1)?.providerError?.error_description).toMatch(/^AADSTS7000215/);
      expect(sim.tenant.nylas.grantByEmail("new.user@contoso.com")).toBeUndefined();
    } finally {
      connector.settings.client_secret = saved;
    }
  });

  it("tells the user the Azure secret expired when the connector holds an expired one", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const connector = sim.tenant.nylas.connector;
    if (!connector) throw new Error("connector missing");
    const saved = connector.settings.client_secret;
    const old = sim.tenant.addSecret(nylasApp.id, { endDateTime: new Date(clock.now().getTime() - DAY_MS) });
    connector.settings.client_secret = old.value;
    try {
      await expect(sim.nylas.signIn("late.user@contoso.com")).rejects.toThrow(
        /The client secret for your Azure application has expired/,
      );
      expect(sim.nylas.authLog.at(-1)?.providerError?.error_codes).toEqual([7000222]);
    } finally {
      connector.settings.client_secret = saved;
      sim.tenant.removePassword(nylasApp, old.keyId);
    }
  });

  it("signIn() creates a grant (grant.created) and the API delete sends grant.deleted", async () => {
    received.length = 0;
    const grant = await sim.nylas.signIn("new.hire@contoso.com", { name: "New Hire" });
    expect(grant).toMatchObject({ email: "new.hire@contoso.com", name: "New Hire", grant_status: "valid" });
    const created = received
      .filter((r) => r.method === "POST")
      .map((r) => JSON.parse(r.body) as { type: string; data: { object: Record<string, unknown> } });
    expect(created.map((n) => n.type)).toEqual(["grant.created"]);
    expect(created[0]?.data.object).toMatchObject({ code: 25012, grant_id: grant.id, name: "New Hire" });

    received.length = 0;
    await nylas.grants.destroy({ grantId: grant.id });
    await sim.nylas.settle();
    expect(sim.tenant.nylas.grantById(grant.id)).toBeUndefined();
    expect(
      received.filter((r) => r.method === "POST").map((r) => (JSON.parse(r.body) as { type: string }).type),
    ).toEqual(["grant.deleted"]);
  });

  // fidelity: N10
  it("tick() expires the grants whose Azure secret expired and sends grant.expired", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const original = nylasApp.passwordCredentials[0];
    if (!original) throw new Error("seeded secret missing");
    const onOld = sim.tenant.nylas.grants.filter(
      (g) => g.secretKeyId === original.keyId && g.grant_status === "valid",
    );
    expect(onOld.length).toBeGreaterThan(0);
    received.length = 0;
    clock.set(new Date(Date.parse(original.endDateTime) + 1000));
    const { expired, deliveries } = await sim.nylas.tick();
    expect(expired.map((g) => g.id).sort()).toEqual(onOld.map((g) => g.id).sort());
    expect(expired.every((g) => g.grant_status === "invalid")).toBe(true);
    expect(deliveries.every((d) => d.ok && d.type === "grant.expired")).toBe(true);
    const posted = received
      .filter((r) => r.method === "POST")
      .map((r) => JSON.parse(r.body) as { type: string; data: { object: { code: number } } });
    expect(posted).toHaveLength(onOld.length);
    expect(posted[0]?.data.object.code).toBe(25009);
    // The grant re-authenticated under the new secret stays valid.
    expect(sim.tenant.nylas.grants[0]?.grant_status).toBe("valid");
  });

  it("builds a signed CloudEvents notification without sending it", () => {
    const grant = sim.tenant.nylas.grants[0];
    if (!grant) throw new Error("grant missing");
    const built = sim.nylas.buildNotification("grant.expired", grant, { webhookSecret: "s3cret" });
    expect(built.headers["x-nylas-signature"]).toMatch(/^[0-9a-f]{64}$/);
    expect(verify(built.body, built.headers["x-nylas-signature"], "s3cret")).toBe(true);
    expect(JSON.parse(built.body)).toMatchObject({
      specversion: "1.0",
      type: "grant.expired",
      source: "/nylas/system",
      webhook_delivery_attempt: 1,
      data: {
        application_id: sim.tenant.nylas.applicationId,
        object: { code: 25009, grant_id: grant.id, provider: "microsoft", email: grant.email },
      },
    });
  });
});
