/**
 * The clients against the simulator through the real SDKs: paging as async
 * iterators, 429/503 retried with Retry-After honoured, errors turned into one
 * HttpError carrying service, status and request id, with what to do.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";
import { ManualClock } from "../../../lib/clock.js";
import { silentLogger } from "../../../lib/logger.js";
import { NylasClient } from "../../../lib/clients/nylas.js";
import { GraphClient } from "../../../lib/clients/graph.js";
import { createGraphCredential, needsInstanceDiscoveryDisabled } from "../../../lib/clients/credential.js";
import { loadConfig } from "../../../lib/config.js";
import { HttpError } from "../../../lib/errors.js";
import { refuseThePageAhead } from "../../helpers/read-ahead.js";

let sim: Simulator;
const clock = new ManualClock();

beforeAll(async () => {
  sim = await startSimulator({ clock, seed: { grantEmails: [] } });
  for (let i = 0; i < 450; i++) sim.tenant.nylas.addGrant({ email: `u${i}@contoso.com` });
  for (let i = 0; i < 2100; i++) sim.tenant.addApp({ displayName: `app ${i}` }, { servicePrincipal: false });
});
afterAll(async () => {
  await sim.close();
});

const nylas = (apiKey = sim.tenant.nylas.apiKey) =>
  new NylasClient({ apiKey, apiUri: sim.urls.nylasApiUri, clock, logger: silentLogger });

async function graph(): Promise<GraphClient> {
  const config = loadConfig(sim.env());
  return GraphClient.create({
    credential: await createGraphCredential(config.azure),
    endpoint: config.azure.graphEndpoint,
    clock,
    logger: silentLogger,
  });
}

describe("NylasClient", () => {
  it("pages every grant by offset at limit 200, oldest first, until an empty page, retrying a 429 after its Retry-After", async () => {
    sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      response: {
        status: 429,
        headers: { "retry-after": "7" },
        body: { error: { type: "rate_limit_error", message: "slow down" } },
      },
    });
    const before = sim.requests.length;
    const t0 = clock.now().getTime();
    let count = 0;
    let pages = 0;
    for await (const page of nylas().listGrantPages()) {
      pages++;
      count += page.length;
    }
    expect(count).toBe(450);
    expect(pages).toBe(3);
    const calls = sim.requests.slice(before).filter((r) => r.path === "/v3/grants");
    expect(calls.map((r) => [r.status, r.query.offset, r.query.limit])).toEqual([
      [429, "0", "200"],
      [200, "0", "200"],
      [200, "200", "200"],
      [200, "400", "200"],
      // A short page does not end the read: Nylas does not document 200 as its maximum page.
      [200, "450", "200"],
    ]);
    expect(calls.every((r) => r.query.sort_by === "created_at" && r.query.order_by === "asc")).toBe(true);
    expect(clock.now().getTime() - t0).toBe(7_000);
  });

  it("asks for the next page of grants while the caller still holds the one before", async () => {
    const before = sim.requests.length;
    const offsets = () =>
      sim.requests
        .slice(before)
        .filter((r) => r.path === "/v3/grants")
        .map((r) => r.query.offset);
    let pages = 0;
    for await (const page of nylas().listGrantPages()) {
      pages++;
      expect(page).toHaveLength(pages < 3 ? 200 : 50);
      // Nothing more is asked of the iterator until this page is done with: the next request must
      // already be on its way.
      await vi.waitFor(() => expect(offsets()).toHaveLength(pages + 1), { timeout: 2_000, interval: 10 });
    }
    // The same requests as one page at a time: none twice, and the empty page still ends the read.
    expect(offsets()).toEqual(["0", "200", "400", "450"]);
  });

  it("stopped after one page, leaves the page it asked ahead for unobserved and harmless when it fails", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // A 400 is not retried.
      const refused = refuseThePageAhead(
        sim,
        { service: "nylas", path: "/v3/grants" },
        { status: 400, body: { error: { type: "invalid_request_error", message: "no" } } },
      );
      for await (const page of nylas().listGrantPages()) {
        expect(page).toHaveLength(200);
        break;
      }
      await vi.waitFor(() => expect(refused.hits).toBe(1), { timeout: 2_000, interval: 10 });
      // A rejection nobody handles is reported after the microtasks of its turn: give it several.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("answers undefined for a grant Nylas does not have, and an HttpError with the fix for a refused key", async () => {
    expect(await nylas().getGrant("no-such-grant")).toBeUndefined();
    const error = (await nylas("nyk_wrong")
      .getMicrosoftConnector()
      .catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.service).toBe("nylas");
    expect(error.statusCode).toBe(401);
    expect(error.requestId).toBeTruthy();
    expect(error.message).toMatch(/NYLAS_API_URI is your application's region/);
  });
});

describe("GraphClient", () => {
  it("pages applications with $select and $top=999, following @odata.nextLink, through a 503", async () => {
    sim.faults.add({
      service: "graph",
      method: "GET",
      path: "/v1.0/applications",
      response: { status: 503, headers: { "retry-after": "1" } },
    });
    const before = sim.requests.length;
    const client = await graph();
    let apps = 0;
    let pages = 0;
    for await (const page of client.listApplicationPages()) {
      pages++;
      apps += page.length;
      expect(Object.keys(page[0]!).sort()).toEqual([
        "appId",
        "displayName",
        "id",
        "keyCredentials",
        "passwordCredentials",
      ]);
    }
    expect(apps).toBe(sim.tenant.appsSnapshot().list.length);
    expect(pages).toBe(Math.ceil(apps / 999));
    const calls = sim.requests
      .slice(before)
      .filter((r) => r.service === "graph" && r.path === "/v1.0/applications");
    expect(calls[0]!.status).toBe(503);
    expect(calls[1]!.query.$top).toBe("999");
    expect(calls[1]!.query.$select).toBe("id,appId,displayName,passwordCredentials,keyCredentials");
    expect(calls.slice(2).every((r) => r.query.$skiptoken !== undefined)).toBe(true);
  });

  it("turns a refusal into an HttpError that says how to grant least privilege", async () => {
    const client = await graph();
    const foreign = sim.tenant.addApp({ displayName: "not ours" });
    expect(await client.getApplicationByAppId("00000000-1111-2222-3333-444444444444")).toBeUndefined();
    const error = (await client
      .addPassword(foreign.id, { displayName: "x", endDateTime: clock.now().toISOString() })
      .catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.service).toBe("graph");
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe("Authorization_RequestDenied");
    expect(error.requestId).toBeTruthy();
    expect(error.message).toMatch(/Application\.ReadWrite\.OwnedBy and add it as an owner/);
  });
});

describe("authorities", () => {
  it("keeps instance discovery for public and sovereign clouds, disables it for any other authority", () => {
    for (const host of [
      "https://login.microsoftonline.com",
      "https://login.microsoftonline.us",
      "https://login.chinacloudapi.cn",
    ]) {
      expect(needsInstanceDiscoveryDisabled(host)).toBe(false);
    }
    expect(needsInstanceDiscoveryDisabled(sim.urls.authorityHost)).toBe(true);
  });
});
