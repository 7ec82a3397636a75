/**
 * Answers that arrive (200) but cannot be trusted: an HTML page, `{}`, a null
 * list, a credential without keyId or a readable end date, an answer about
 * another object. Each is the one HttpError (service named, code
 * MalformedResponse), never "no secrets", "never expires" or a TypeError.
 * Through the real SDKs against the simulator, the bad answers injected.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DAY_MS, ManualClock } from "../../../lib/clock.js";
import { loadConfig } from "../../../lib/config.js";
import { createDeps, type Deps } from "../../../lib/deps.js";
import { MALFORMED } from "../../../lib/clients/answer.js";
import type { GraphClient } from "../../../lib/clients/graph.js";
import { HttpError } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";

const clock = new ManualClock(new Date("2026-11-23T12:00:00Z"));
let sim: Simulator;
let deps: Deps;
let graph: GraphClient;
let appId: string;

beforeAll(async () => {
  sim = await startSimulator({ clock });
  const app = sim.tenant.addApp({ displayName: "Payroll" }, { servicePrincipal: false });
  sim.tenant.addSecret(app.id, {
    displayName: "prod",
    endDateTime: new Date(clock.now().getTime() + 5 * DAY_MS),
  });
  appId = app.appId;
  deps = createDeps(loadConfig(sim.env()), silentLogger, { clock });
  graph = await deps.graph();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.faults.clear();
});

/** The next read of the app (alone, or as a `$batch` sub-request) answers 200 with `body`. */
function answerApp(body: string | object, headers: Record<string, string> = {}): void {
  sim.faults.add({
    service: "graph",
    method: "GET",
    path: new RegExp(`applications\\(appId='${appId}'\\)$`),
    response: { status: 200, headers: { "content-type": "application/json", ...headers }, body },
  });
}

function password(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    keyId: "00000000-0000-0000-0000-000000000001",
    displayName: "prod",
    hint: "abc",
    startDateTime: "2026-01-01T00:00:00Z",
    endDateTime: "2026-11-28T12:00:00Z",
    ...overrides,
  };
}

function app(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    id: "obj-1",
    appId,
    displayName: "Payroll",
    passwordCredentials: [],
    keyCredentials: [],
    ...overrides,
  };
}

async function firstOf<T>(pages: AsyncGenerator<T>): Promise<T | undefined> {
  for await (const page of pages) return page;
  return undefined;
}

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

describe("Graph answers are checked at the client", () => {
  it("reads a normal answer: the secret and its end date", async () => {
    const read = await graph.getApplicationByAppId(appId);
    expect(read?.passwordCredentials.map((p) => p.displayName)).toEqual(["prod"]);
    expect(read?.passwordCredentials[0]?.endDateTime).toMatch(/^2026-11-28T12:00:00/);
  });

  const cases: [string, string | object, Record<string, string>?][] = [
    ["an HTML page", "<html><body>Sign in to continue</body></html>", { "content-type": "text/html" }],
    ["{}", {}],
    ["passwordCredentials: null", app({ passwordCredentials: null })],
    ["no passwordCredentials", { id: "obj-1", appId, displayName: "Payroll", keyCredentials: [] }],
    ["a garbage endDateTime", app({ passwordCredentials: [password({ endDateTime: "soon-ish" })] })],
    ["a missing endDateTime", app({ passwordCredentials: [password({ endDateTime: undefined })] })],
    ["a numeric endDateTime", app({ passwordCredentials: [password({ endDateTime: 1_800_000_000 })] })],
    ["a missing keyId", app({ passwordCredentials: [password({ keyId: undefined })] })],
    ["a certificate with a garbage date", app({ keyCredentials: [{ keyId: "k", endDateTime: "x" }] })],
    ["another application", app({ appId: "11111111-2222-3333-4444-555555555555" })],
  ];
  for (const [name, body, headers] of cases) {
    it(`${name} is a Graph service error, not "no secrets" or a crash`, async () => {
      answerApp(body, headers);
      const error = await failure(graph.getApplicationByAppId(appId));
      expect(error.service).toBe("graph");
      expect(error.code).toBe(MALFORMED);
      expect(error.message).toMatch(/not what Graph documents/);
    });
  }

  it("in a $batch, the malformed app comes back with its error; the others are read", async () => {
    answerApp(app({ passwordCredentials: [password({ endDateTime: "garbage" })] }));
    const other = sim.tenant.addApp({ displayName: "Other" }, { servicePrincipal: false });
    const reads = [];
    for await (const read of graph.getApplicationsByAppIds([appId, other.appId])) reads.push(read);
    const bad = reads.find((r) => r.appId === appId);
    expect(bad?.app).toBeUndefined();
    expect(bad?.error?.code).toBe(MALFORMED);
    expect(bad?.error?.message).toMatch(/endDateTime/);
    expect(reads.find((r) => r.appId === other.appId)?.app?.displayName).toBe("Other");
  });

  it("a page whose value is not a list is an error, and a malformed app in a page is reported by its appId", async () => {
    sim.faults.add({
      service: "graph",
      method: "GET",
      path: "/v1.0/applications",
      response: { status: 200, body: { value: null } },
    });
    const pages = graph.listApplicationReadPages();
    const unreadable = await failure(pages.next());
    expect(unreadable.code).toBe(MALFORMED);
    // In words: what was expected and what came (zod's English messages, registered in answer.ts).
    expect(unreadable.message).toContain("value: Invalid input: expected array, received null");

    sim.faults.add({
      service: "graph",
      method: "GET",
      path: "/v1.0/applications",
      response: {
        status: 200,
        body: { value: [app({ passwordCredentials: null }), app({ appId: "fine" })] },
      },
    });
    const page = await firstOf(graph.listApplicationReadPages());
    expect([...(page ?? [])].map((r) => [r.appId, r.app === undefined, r.error?.code])).toEqual([
      [appId, true, MALFORMED],
      ["fine", false, undefined],
    ]);
  });

  it("a service principal answer about another app is an error, not that app's principal", async () => {
    sim.faults.add({
      service: "graph",
      method: "GET",
      path: "/v1.0/servicePrincipals",
      response: { status: 200, body: { value: [{ id: "sp", appId: "someone-else", displayName: "x" }] } },
    });
    expect((await failure(graph.getServicePrincipalByAppId(appId))).code).toBe(MALFORMED);
  });
});

describe("Nylas answers are checked at the client", () => {
  it("refuses a grant id that is not a Nylas id before it goes into the path", async () => {
    const from = sim.requests.length;
    for (const id of [".", "..", "a/b", "", "x".repeat(257)])
      await expect(deps.nylas.getGrant(id)).rejects.toThrow(RangeError);
    expect(sim.requests.slice(from).filter((r) => r.service === "nylas")).toEqual([]);
  });

  it("a grant Nylas answers without grant_status is unknown, never valid", async () => {
    const grant = sim.tenant.nylas.addGrant({ email: "status@contoso.com" });
    const { grant_status: _status, ...noStatus } = grant;
    sim.faults.add({
      service: "nylas",
      method: "GET",
      path: `/v3/grants/${grant.id}`,
      response: { status: 200, body: { request_id: "r", data: noStatus } },
    });
    expect((await deps.nylas.getGrant(grant.id))?.grantStatus).toBe("unknown");

    sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      response: { status: 200, body: { request_id: "r", data: [noStatus] } },
    });
    const page = await firstOf(deps.nylas.listGrantPages());
    expect(page?.map((g) => g.grantStatus)).toEqual(["unknown"]);
  });

  it("a grant answer about another grant, or without an id, is a Nylas service error", async () => {
    const grant = sim.tenant.nylas.addGrant({ email: "other@contoso.com" });
    sim.faults.add({
      service: "nylas",
      method: "GET",
      path: `/v3/grants/${grant.id}`,
      response: { status: 200, body: { request_id: "r", data: { ...grant, id: "another-grant" } } },
    });
    const error = await failure(deps.nylas.getGrant(grant.id));
    expect([error.service, error.code]).toEqual(["nylas", MALFORMED]);

    sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      response: { status: 200, body: { request_id: "r", data: [{ provider: "microsoft", created_at: 1 }] } },
    });
    expect((await failure(deps.nylas.listGrantPages().next())).code).toBe(MALFORMED);
  });

  it("a connector answer that is {} or a list is a Nylas service error, not a connector without client_id", async () => {
    for (const data of [{}, [], "<html>"]) {
      sim.faults.add({
        service: "nylas",
        method: "GET",
        path: "/v3/connectors/microsoft",
        response: { status: 200, body: { request_id: "r", data } },
      });
      const error = await failure(deps.nylas.getMicrosoftConnector());
      expect([error.service, error.code]).toEqual(["nylas", MALFORMED]);
    }
    expect((await deps.nylas.getMicrosoftConnector())?.clientId).toBeDefined();
  });
});
