import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestToken } from "../../helpers/entra-token.js";
import { DAY_MS } from "../../../lib/clock.js";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";

// Benchmark scale: 50,000 apps and 50,000 grants. The bounds are loose on purpose
// (CI has two cores); they catch a per-request O(tenant) or a quadratic seed, which
// would take minutes, not a few seconds.
const APPS = 50_000;
const GRANTS = 50_000;

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({ recordRequests: false, seed: false });
  const started = Date.now();
  const end = new Date(Date.now() + 100 * DAY_MS);
  for (let i = 0; i < APPS; i++) {
    const app = sim.tenant.addApp({ displayName: `app-${i}` }, { servicePrincipal: false });
    sim.tenant.addSecret(app.id, { endDateTime: end });
  }
  for (let i = 0; i < GRANTS; i++) {
    sim.tenant.nylas.addGrant({
      email: `user${i}@contoso.com`,
      created_at: 1_700_000_000 + i,
      grant_status: i % 10 === 0 ? "invalid" : "valid",
    });
  }
  expect(Date.now() - started).toBeLessThan(20_000);
  const res = await requestToken(
    sim,
    sim.watchdog.appId,
    sim.watchdog.secret,
    "https://graph.microsoft.com/.default",
  );
  token = ((await res.json()) as { access_token: string }).access_token;
}, 60_000);

afterAll(async () => {
  await sim.close();
});

describe("the simulator at benchmark scale", () => {
  it("pages every application through Graph", async () => {
    const started = Date.now();
    let url: string | undefined =
      `${sim.urls.graphEndpoint}/v1.0/applications?$top=999&$select=id,appId,passwordCredentials`;
    let count = 0;
    while (url !== undefined) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { value: unknown[]; "@odata.nextLink"?: string };
      count += body.value.length;
      url = body["@odata.nextLink"];
    }
    expect(count).toBe(APPS + 1); // + the watchdog's own app
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  // fidelity: N3
  it("pages every grant, and the invalid ones, through Nylas", async () => {
    const started = Date.now();
    const pageAll = async (filter: string) => {
      let total = 0;
      for (let offset = 0; ; offset += 200) {
        const res = await fetch(`${sim.urls.nylasApiUri}/v3/grants?limit=200&offset=${offset}${filter}`, {
          headers: { authorization: `Bearer ${sim.tenant.nylas.apiKey}` },
        });
        const body = (await res.json()) as { data: unknown[] };
        total += body.data.length;
        if (body.data.length < 200) return total;
      }
    };
    expect(await pageAll("")).toBe(GRANTS);
    expect(await pageAll("&grant_status=invalid")).toBe(GRANTS / 10);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  // fidelity: E8, N10
  it("runs a Nylas tick over every grant in well under a second, one refresh sign-in per key", async () => {
    const app = sim.tenant.addApp({ displayName: "connector app" });
    const end = new Date(Date.now() + 100 * DAY_MS);
    const keys = [0, 1].map(() => sim.tenant.addSecret(app.id, { endDateTime: end }).keyId);
    const expiredKey = sim.tenant.addSecret(app.id, { endDateTime: new Date(Date.now() - DAY_MS) }).keyId;
    sim.tenant.nylas.grants.forEach((grant, i) => {
      grant.clientId = app.appId;
      grant.secretKeyId = i % 100 === 1 ? expiredKey : keys[i % 2];
    });
    const onExpired = GRANTS / 100; // i % 100 === 1 is never invalid (i % 10 === 0)
    const started = Date.now();
    const { expired, refreshed } = await sim.nylas.tick();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(expired).toHaveLength(onExpired);
    expect(refreshed.map((r) => r.keyId).sort()).toEqual([...keys].sort());
    expect(refreshed.reduce((n, r) => n + r.grants, 0)).toBe(GRANTS - GRANTS / 10 - onExpired);
    for (const keyId of keys) expect(sim.tenant.signInsOf(keyId)).toHaveLength(1);
    expect(sim.tenant.lastSignIn(expiredKey)).toBeUndefined();
  });
});
