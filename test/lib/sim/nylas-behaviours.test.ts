import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { nylasApi as callNylasApi } from "../../helpers/nylas-api.js";
import { ManualClock, DAY_MS } from "../../../lib/clock.js";
import { startSimulator, type SimApp, type SimGrant, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;
const clock = new ManualClock();

beforeAll(async () => {
  sim = await startSimulator({ clock });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.tenant.nylas.secretBinding = "bound";
  sim.tenant.nylas.grantPageCap = undefined;
  sim.tenant.nylas.beforeGrantsPage = undefined;
});

const nylasApi = (method: string, path: string, body?: unknown) => callNylasApi(sim, method, path, body);

interface GrantPage {
  data: Record<string, unknown>[];
  limit: number;
  offset: number;
}

async function grantPage(query: string): Promise<GrantPage> {
  const res = await nylasApi("GET", `/v3/grants?${query}`);
  expect(res.status).toBe(200);
  return res.body as unknown as GrantPage;
}

/** Puts a new secret into the connector with a full-settings PATCH, as a correct rotation does. */
async function patchInNewSecret(app: SimApp): Promise<{ keyId: string; value: string }> {
  const fresh = sim.tenant.addSecret(app.id, { endDateTime: new Date(clock.now().getTime() + 365 * DAY_MS) });
  const res = await nylasApi("PATCH", "/v3/connectors/microsoft", {
    settings: { client_id: app.appId, tenant: "common", client_secret: fresh.value },
  });
  expect(res.status).toBe(200);
  return fresh;
}

describe("what a connector secret change does to existing grants", () => {
  // fidelity: N8
  it("'bound' (default): every grant keeps the key it signed in with", async () => {
    const app = sim.nylasApp as SimApp;
    expect(sim.tenant.nylas.secretBinding).toBe("bound");
    const before = new Map(sim.tenant.nylas.grants.map((g) => [g.id, g.secretKeyId]));
    const fresh = await patchInNewSecret(app);
    for (const grant of sim.tenant.nylas.grants) {
      expect(grant.secretKeyId).toBe(before.get(grant.id));
      expect(grant.secretKeyId).not.toBe(fresh.keyId);
    }
    // New sign-ins use the new key.
    const grant = await sim.nylas.signIn("after.rotation@contoso.com");
    expect(grant.secretKeyId).toBe(fresh.keyId);
  });

  // fidelity: N9
  it("'moved': a PATCH with another secret of the app moves every valid grant of that app onto it", async () => {
    const app = sim.nylasApp as SimApp;
    sim.tenant.nylas.secretBinding = "moved";
    const invalid = sim.tenant.nylas.addGrant({ email: "gone.invalid@contoso.com", grant_status: "invalid" });
    const otherApp = sim.tenant.addApp({ displayName: "another connector app" });
    const otherKey = sim.tenant.addSecret(otherApp.id, {
      endDateTime: new Date(clock.now().getTime() + DAY_MS),
    });
    const foreign = sim.tenant.nylas.addGrant({
      email: "other.app@contoso.com",
      clientId: otherApp.appId,
      secretKeyId: otherKey.keyId,
    });
    const invalidKey = invalid.secretKeyId;

    const fresh = await patchInNewSecret(app);
    const valid = sim.tenant.nylas.grants.filter(
      (g) => g.grant_status === "valid" && g.clientId === app.appId,
    );
    expect(valid.length).toBeGreaterThanOrEqual(3);
    expect(valid.every((g) => g.secretKeyId === fresh.keyId)).toBe(true);
    expect(invalid.secretKeyId).toBe(invalidKey);
    expect(foreign.secretKeyId).toBe(otherKey.keyId);

    // A PATCH that keeps the same secret, or names a value that is no secret of the app, moves nothing.
    const stay = sim.tenant.nylas.addGrant({ email: "stays.put@contoso.com", secretKeyId: otherKey.keyId });
    await nylasApi("PATCH", "/v3/connectors/microsoft", {
      settings: { client_id: app.appId, tenant: "common", client_secret: fresh.value },
    });
    expect(stay.secretKeyId).toBe(otherKey.keyId);
    await nylasApi("PATCH", "/v3/connectors/microsoft", {
      settings: { client_id: app.appId, tenant: "common", client_secret: "not-a-secret-of-the-app" },
    });
    expect(stay.secretKeyId).toBe(otherKey.keyId);
    await nylasApi("PATCH", "/v3/connectors/microsoft", {
      settings: { client_id: app.appId, tenant: "common", client_secret: fresh.value },
    });
    expect(stay.secretKeyId).toBe(fresh.keyId);
    for (const g of [invalid, foreign, stay]) sim.tenant.nylas.removeGrant(g.id);
  });
});

// fidelity: N11
describe("credential_id / active_credential_id", () => {
  it("the seeded connector has an active_credential_id and the seeded grants carry it", async () => {
    const connector = await nylasApi("GET", "/v3/connectors/microsoft");
    const active = (connector.body.data as { active_credential_id?: string }).active_credential_id;
    expect(active).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const first = sim.tenant.nylas.grants[0] as SimGrant;
    const res = await nylasApi("GET", `/v3/grants/${first.id}`);
    expect((res.body.data as { credential_id?: string }).credential_id).toBe(active);
  });

  it("PATCH keeps active_credential_id unless the body sets it; hosted auth stamps the current one", async () => {
    const connector = sim.tenant.nylas.connector;
    if (!connector) throw new Error("connector missing");
    const original = connector.active_credential_id;
    const patched = await nylasApi("PATCH", "/v3/connectors/microsoft", {
      settings: { ...connector.settings },
      scope: [...connector.scope],
    });
    expect((patched.body.data as { active_credential_id?: string }).active_credential_id).toBe(original);

    const next = "5f0d7f5e-8f6b-4c55-9d2b-3a1f6d0c9e77";
    const set = await nylasApi("PATCH", "/v3/connectors/microsoft", { active_credential_id: next });
    expect((set.body.data as { active_credential_id?: string }).active_credential_id).toBe(next);

    const existing = sim.tenant.nylas.grants[0] as SimGrant;
    expect(existing.credential_id).toBe(original);
    const reauthed = await sim.nylas.signIn(existing.email);
    expect(reauthed.credential_id).toBe(next);
    const created = await sim.nylas.signIn("credential.new@contoso.com");
    expect(created.credential_id).toBe(next);
    const listed = await grantPage(`email=${encodeURIComponent("credential.new@contoso.com")}`);
    expect(listed.data[0]?.credential_id).toBe(next);
    connector.active_credential_id = original;
  });
});

describe("GET /v3/grants paging switches", () => {
  // fidelity: N6
  it("caps the page size, echoing the cap or the requested limit", async () => {
    for (let i = 0; i < 8; i++) sim.tenant.nylas.addGrant({ email: `cap${i}@contoso.com` });
    const total = sim.tenant.nylas.grants.length;
    expect(total).toBeGreaterThan(10);
    sim.tenant.nylas.grantPageCap = { max: 5, echo: "cap" };
    const capped = await grantPage("limit=50&offset=0");
    expect(capped.data).toHaveLength(5);
    expect(capped.limit).toBe(5);
    expect(capped.offset).toBe(0);
    const small = await grantPage("limit=3");
    expect(small.data).toHaveLength(3);
    expect(small.limit).toBe(3);

    sim.tenant.nylas.grantPageCap = { max: 5, echo: "requested" };
    const echoed = await grantPage("limit=50&offset=5");
    expect(echoed.data).toHaveLength(5);
    expect(echoed.limit).toBe(50);
    expect(echoed.offset).toBe(5);

    sim.tenant.nylas.grantPageCap = undefined;
    const uncapped = await grantPage("limit=50");
    expect(uncapped.data).toHaveLength(Math.min(50, total));
    expect(uncapped.limit).toBe(50);
  });

  // fidelity: N7
  it("calls beforeGrantsPage before every page, so a grant can vanish between pages", async () => {
    const calls: [string | null, number][] = [];
    const victim = sim.tenant.nylas.grants.at(-1) as SimGrant;
    sim.tenant.nylas.beforeGrantsPage = (query, pageIndex) => {
      calls.push([query.get("offset"), pageIndex]);
      if (pageIndex === 1) sim.tenant.nylas.removeGrant(victim.id);
    };
    const total = sim.tenant.nylas.grants.length;
    const seen: string[] = [];
    for (let offset = 0; ; offset += 2) {
      const page = await grantPage(`limit=2&offset=${offset}&order_by=asc`);
      seen.push(...page.data.map((g) => String(g.id)));
      if (page.data.length < 2) break;
    }
    expect(calls.slice(0, 3)).toEqual([
      ["0", 0],
      ["2", 1],
      ["4", 2],
    ]);
    expect(calls.map(([, i]) => i)).toEqual(calls.map((_, i) => i));
    expect(seen).not.toContain(victim.id);
    expect(seen).toHaveLength(total - 1);

    // Setting the hook again restarts the count.
    const indexes: number[] = [];
    sim.tenant.nylas.beforeGrantsPage = (_q, i) => indexes.push(i);
    await grantPage("limit=1");
    await grantPage("limit=1&offset=1");
    expect(indexes).toEqual([0, 1]);
  });

  // fidelity: N5
  it("orders equal created_at in insertion order, ascending and descending", async () => {
    const at = 1_600_000_000;
    const tied = ["tie.a", "tie.b", "tie.c", "tie.d"].map((name) =>
      sim.tenant.nylas.addGrant({ email: `${name}@contoso.com`, created_at: at }),
    );
    const ids = tied.map((g) => g.id);
    const pick = (page: GrantPage) => page.data.map((g) => String(g.id)).filter((id) => ids.includes(id));
    expect(pick(await grantPage("limit=200&sort_by=created_at&order_by=asc"))).toEqual(ids);
    expect(pick(await grantPage("limit=200&sort_by=created_at&order_by=desc"))).toEqual(ids);
    expect(pick(await grantPage("limit=200"))).toEqual(ids);
    // Across pages, too: no tie repeats or goes missing.
    const paged: string[] = [];
    for (let offset = 0; ; offset += 3) {
      const page = await grantPage(`limit=3&offset=${offset}&order_by=desc`);
      paged.push(...pick(page));
      if (page.data.length < 3) break;
    }
    expect(paged).toEqual(ids);
    for (const g of tied) sim.tenant.nylas.removeGrant(g.id);
  });
});

describe("the application's region", () => {
  const status = async (base: string, apiKey: string, path = "/v3/grants?limit=1") =>
    (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiKey}` }, redirect: "manual" }))
      .status;

  // fidelity: N13
  it("region 'eu': the EU API answers and the US one answers 401 to everything; startSimulator({ region }) starts there", async () => {
    const key = sim.tenant.nylas.apiKey;
    expect(await status(sim.urls.nylasApiUri, key)).toBe(200);
    expect(await status(sim.urls.nylasEuApiUri, key)).toBe(401);
    sim.tenant.nylas.region = "eu";
    try {
      expect(await status(sim.urls.nylasEuApiUri, key)).toBe(200);
      expect(await status(sim.urls.nylasApiUri, key)).toBe(401);
      // Every request, the unauthenticated hosted-auth and token endpoints too.
      expect(await status(sim.urls.nylasApiUri, key, "/v3/connect/auth?provider=microsoft")).toBe(401);
      expect(await status(sim.urls.nylasApiUri, key, "/v3/connectors/microsoft")).toBe(401);
    } finally {
      sim.tenant.nylas.region = "us";
    }

    const eu = await startSimulator({ clock, region: "eu" });
    try {
      expect(eu.tenant.nylas.region).toBe("eu");
      expect(eu.env().NYLAS_API_URI).toBe(eu.urls.nylasEuApiUri);
      expect(await status(eu.urls.nylasEuApiUri, eu.tenant.nylas.apiKey)).toBe(200);
      expect(await status(eu.urls.nylasApiUri, eu.tenant.nylas.apiKey)).toBe(401);
    } finally {
      await eu.close();
    }
  });
});
