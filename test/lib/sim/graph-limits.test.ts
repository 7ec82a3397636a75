import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { watchdogGraphToken } from "../../helpers/entra-token.js";
import { ManualClock } from "../../../lib/clock.js";
import { startSimulator, type SimApp, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;
let token: string;
const clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 0, 0));

beforeAll(async () => {
  sim = await startSimulator({ clock });
  token = await watchdogGraphToken(sim);
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.tenant.keyCredentialsThrottle = undefined;
  sim.tenant.unreadableApps.clear();
  clock.set(new Date(Date.UTC(2026, 10, 23, 12, 0, 0)));
});

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function graph(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${sim.urls.graphEndpoint}/v1.0${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

const nylasApp = () => sim.nylasApp as SimApp;
const withKeys = (app: SimApp) => `/applications(appId='${app.appId}')?$select=id,appId,keyCredentials`;
const errorCode = (a: Answer) => (a.body.error as { code: string }).code;

interface BatchAnswer {
  responses: { id: string; status: number; headers: Record<string, string>; body: Record<string, unknown> }[];
}

// fidelity: E14
describe("Graph's throttle on $select=keyCredentials", () => {
  it("off by default: any number of reads selecting keyCredentials", async () => {
    for (let i = 0; i < 5; i++) expect((await graph("GET", withKeys(nylasApp()))).status).toBe(200);
  });

  it("answers 429 TooManyRequests beyond perMinute in a clock minute, with Retry-After until the minute ends", async () => {
    sim.tenant.keyCredentialsThrottle = { perMinute: 3 };
    clock.advance(15_000); // 12:00:15
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await graph("GET", withKeys(nylasApp()))).status);
    // The list counts too.
    const list = await graph("GET", "/applications?$select=id,keyCredentials");
    expect([...statuses, list.status]).toEqual([200, 200, 200, 429]);
    expect(errorCode(list)).toBe("TooManyRequests");
    expect(list.headers.get("retry-after")).toBe("45");

    // Reads that do not select keyCredentials are not counted and not refused.
    expect(
      (await graph("GET", `/applications(appId='${nylasApp().appId}')?$select=id,passwordCredentials`))
        .status,
    ).toBe(200);
    expect((await graph("GET", `/applications(appId='${nylasApp().appId}')`)).status).toBe(200);

    clock.advance(44_500); // 12:00:59.5: still the same minute, Retry-After rounds up
    const late = await graph("GET", withKeys(nylasApp()));
    expect(late.status).toBe(429);
    expect(late.headers.get("retry-after")).toBe("1");

    clock.advance(1_000); // the next minute
    expect((await graph("GET", withKeys(nylasApp()))).status).toBe(200);
  });

  it("throttles each $batch sub-request on its own, with its own Retry-After", async () => {
    sim.tenant.keyCredentialsThrottle = { perMinute: 2 };
    const app = nylasApp();
    const res = await graph("POST", "/$batch", {
      requests: [0, 1, 2, 3].map((n) => ({
        id: String(n),
        method: "GET",
        url: n === 3 ? `/applications(appId='${app.appId}')?$select=id,appId` : withKeys(app),
      })),
    });
    expect(res.status).toBe(200);
    const { responses } = res.body as unknown as BatchAnswer;
    expect(responses.map((r) => r.status)).toEqual([200, 200, 429, 200]);
    const throttled = responses[2];
    expect(throttled?.headers["Retry-After"]).toBe("60");
    expect((throttled?.body.error as { code: string }).code).toBe("TooManyRequests");
  });

  it("counts every page of a paged list", async () => {
    sim.tenant.keyCredentialsThrottle = { perMinute: 2 };
    const first = await graph("GET", "/applications?$select=id,keyCredentials&$top=1");
    expect(first.status).toBe(200);
    const next = String(first.body["@odata.nextLink"]).replace(`${sim.urls.graphEndpoint}/v1.0`, "");
    expect((await graph("GET", next)).status).toBe(200);
    const third = String((await graph("GET", next)).status);
    expect(third).toBe("429");
  });
});

// fidelity: E15
describe("an application nobody may read", () => {
  it("answers 403 Authorization_RequestDenied to a GET by object id or appId, and to its owners", async () => {
    const payroll = sim.tenant.addApp({ displayName: "Payroll", owners: [sim.watchdog.servicePrincipalId] });
    expect((await graph("GET", `/applications/${payroll.id}`)).status).toBe(200);
    sim.tenant.unreadableApps.add(payroll.appId);
    for (const path of [
      `/applications/${payroll.id}`,
      `/applications(appId='${payroll.appId}')?$select=id,passwordCredentials`,
      `/applications/${payroll.id}/owners`,
    ]) {
      const res = await graph("GET", path);
      expect(res.status, path).toBe(403);
      expect(errorCode(res)).toBe("Authorization_RequestDenied");
    }
    // Other apps read as before.
    expect((await graph("GET", `/applications/${nylasApp().id}`)).status).toBe(200);
    // An object id in the set works too.
    sim.tenant.unreadableApps.clear();
    sim.tenant.unreadableApps.add(payroll.id);
    expect((await graph("GET", `/applications(appId='${payroll.appId}')`)).status).toBe(403);
  });

  it("answers 403 inside $batch for that app only", async () => {
    const payroll = sim.tenant.addApp({ displayName: "Payroll 2" });
    sim.tenant.unreadableApps.add(payroll.appId);
    const res = await graph("POST", "/$batch", {
      requests: [payroll, nylasApp()].map((app, n) => ({
        id: String(n),
        method: "GET",
        url: `/applications(appId='${app.appId}')?$select=id,appId,passwordCredentials`,
      })),
    });
    const { responses } = res.body as unknown as BatchAnswer;
    expect(responses.map((r) => r.status)).toEqual([403, 200]);
    expect((responses[0]?.body.error as { code: string }).code).toBe("Authorization_RequestDenied");
  });

  it("a missing app is still 404, not 403", async () => {
    sim.tenant.unreadableApps.add("11111111-2222-3333-4444-555555555555");
    expect((await graph("GET", "/applications(appId='11111111-2222-3333-4444-555555555555')")).status).toBe(
      404,
    );
  });
});
