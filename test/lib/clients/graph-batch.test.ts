/**
 * Reading many app registrations from Graph: a WATCH_APP_IDS list goes through
 * `$batch` (20 reads per request), each sub-response's 429 retried on its own;
 * "*" pages /applications with `$select` and `$top=999`. Counted from the
 * simulator's request log, through the real Graph SDK.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DAY_MS, ManualClock } from "../../../lib/clock.js";
import { loadConfig } from "../../../lib/config.js";
import { createDeps, type Deps } from "../../../lib/deps.js";
import { CREDENTIAL_SELECT, MAX_BATCH, type GraphClient } from "../../../lib/clients/graph.js";
import type { Logger } from "../../../lib/logger.js";
import { scanCredentials, type CredentialReport } from "../../../lib/watch/scan.js";
import { startSimulator, type RecordedRequest, type Simulator } from "../../../lib/sim/index.js";
import { refuseThePageAhead } from "../../helpers/read-ahead.js";

const WATCHED = 100;
const clock = new ManualClock(new Date("2026-11-23T12:00:00Z"));
const thresholds = { alertBeforeDays: 14, rotateBeforeDays: 60 };

let sim: Simulator;
let deps: Deps;
let graph: GraphClient;
/** The watched apps' application ids, in creation order. */
let appIds: string[];
const logs: string[] = [];
const logger: Logger = {
  debug: () => undefined,
  info: (m) => logs.push(`info ${m}`),
  warn: (m) => logs.push(`warn ${m}`),
  error: (m) => logs.push(`error ${m}`),
};

beforeAll(async () => {
  sim = await startSimulator({ clock });
  appIds = [];
  for (let i = 0; i < WATCHED; i++) {
    const app = sim.tenant.addApp({ displayName: `watched ${i}` }, { servicePrincipal: false });
    sim.tenant.addSecret(app.id, {
      displayName: `secret ${i}`,
      endDateTime: new Date(clock.now().getTime() + (i + 1) * DAY_MS),
    });
    appIds.push(app.appId);
  }
  deps = createDeps(loadConfig(sim.env({ WATCH_APP_IDS: appIds.join(",") })), logger, { clock });
  graph = await deps.graph();
  // The token first, so that every test below counts Graph requests only.
  await graph.tokenClaims();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.faults.clear();
  logs.length = 0;
});

/** Requests Graph received since `from`: top-level HTTP requests, or `$batch` sub-requests. */
function graphRequests(from: number, kind: "top" | "sub"): RecordedRequest[] {
  return sim.requests
    .slice(from)
    .filter((r) => r.service === "graph" && (kind === "sub") === (r.batch === true));
}

/** The application id a sub-request reads: `/v1.0/applications(appId='…')`. */
function appIdOf(request: RecordedRequest): string {
  const id = /^\/v1\.0\/applications\(appId='([^']+)'\)$/.exec(request.path)?.[1];
  if (id === undefined) throw new Error(`not an application read: ${request.path}`);
  return id;
}

/** The application ids one `$batch` POST asked for, in order. */
function batchedIds(request: RecordedRequest): string[] {
  const body = JSON.parse(request.body) as { requests: { url: string }[] };
  return body.requests.map((r) => /appId='([^']+)'/.exec(r.url)?.[1] ?? "?");
}

async function readAll(ids: readonly string[]) {
  const out: { appId: string; displayName: string | null | undefined }[] = [];
  for await (const { appId, app } of graph.getApplicationsByAppIds(ids)) {
    out.push({ appId, displayName: app?.displayName });
  }
  return out;
}

describe("a WATCH_APP_IDS list is read through $batch", () => {
  it("reads 100 app ids in 5 Graph requests, 20 reads each, every app once", async () => {
    const from = sim.requests.length;
    const read = await readAll(appIds);

    const top = graphRequests(from, "top");
    expect(top.length).toBeLessThanOrEqual(5);
    expect(top).toHaveLength(WATCHED / MAX_BATCH);
    for (const request of top) {
      expect(request.method).toBe("POST");
      expect(request.path).toBe("/v1.0/$batch");
      expect(batchedIds(request)).toHaveLength(MAX_BATCH);
    }
    const sub = graphRequests(from, "sub");
    expect(sub.map(appIdOf)).toEqual(appIds);
    for (const request of sub) {
      expect(request.method).toBe("GET");
      expect(request.query.$select).toBe(CREDENTIAL_SELECT.join(","));
      expect(request.status).toBe(200);
    }
    expect(read.map((r) => r.appId).sort()).toEqual([...appIds].sort());
    expect(read.every((r) => /^watched \d+$/.test(r.displayName ?? ""))).toBe(true);
  });

  it("is how scan reads the list: the connector's app, then 5 batches for 100 watched apps", async () => {
    const from = sim.requests.length;
    const summary = await scanCredentials(deps, { watchAppIds: appIds, thresholds });

    expect(summary.problems).toEqual([]);
    expect(summary.apps).toBe(WATCHED + 1);
    expect(summary.credentials).toBe(WATCHED + 1);
    const top = graphRequests(from, "top");
    const batches = top.filter((r) => r.path === "/v1.0/$batch");
    expect(batches).toHaveLength(5);
    expect(batches.flatMap(batchedIds)).toEqual(appIds);
    // Besides the batches, only the connector's app registration and its secrets' sign-in report, read
    // once, side by side, before them.
    expect(
      top
        .filter((r) => r.path !== "/v1.0/$batch")
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual([
      "GET /beta/reports/appCredentialSignInActivities",
      `GET /v1.0/applications(appId='${sim.nylasApp!.appId}')`,
    ]);
    expect(summary.signIns.readable).toBe(false); // the identity lacks AuditLog.Read.All
  });

  it("keeps the soonest-expiring credentials, soonest first, no more than keepSoonest", async () => {
    const all: CredentialReport[] = [];
    const summary = await scanCredentials(deps, {
      watchAppIds: appIds,
      thresholds,
      keepSoonest: 5,
      onCredential: (r) => all.push(r),
    });
    const expected = [...all]
      .sort((a, b) => Date.parse(a.endDateTime!) - Date.parse(b.endDateTime!))
      .slice(0, 5)
      .map((r) => r.keyId);
    expect(summary.soonest.map((r) => r.keyId)).toEqual(expected);
  });

  it("retries only the throttled sub-requests, after their Retry-After, and returns every app once", async () => {
    // Two throttled reads in the first batch (once each), one in the third (twice in a row).
    const throttled = [appIds[3]!, appIds[7]!, appIds[45]!];
    const throttle = (appId: string, times: number) =>
      sim.faults.add({
        service: "graph",
        method: "GET",
        path: new RegExp(`^/v1\\.0/applications\\(appId='${appId}'\\)$`),
        times,
        response: { status: 429 },
      });
    const faults = [throttle(throttled[0]!, 1), throttle(throttled[1]!, 1), throttle(throttled[2]!, 2)];
    const from = sim.requests.length;
    const started = clock.now().getTime();

    const read = await readAll(appIds);

    // Every app exactly once, throttled or not.
    expect(read.map((r) => r.appId).sort()).toEqual([...appIds].sort());
    expect(read.filter((r) => r.displayName === undefined)).toEqual([]);
    expect(faults.map((f) => f.hits)).toEqual([1, 1, 2]);

    // Each batch is finished before the next: batch 1, then its two throttled reads alone in one
    // retry; batches 2 and 3, then batch 3's throttled read alone, twice; then batches 4 and 5.
    const slice = (n: number) => appIds.slice(n * MAX_BATCH, (n + 1) * MAX_BATCH);
    expect(graphRequests(from, "top").map(batchedIds)).toEqual([
      slice(0),
      [throttled[0], throttled[1]],
      slice(1),
      slice(2),
      [throttled[2]],
      [throttled[2]],
      slice(3),
      slice(4),
    ]);

    // Sub-requests: each throttled id answered 429 then 200; every other id read once.
    const sub = graphRequests(from, "sub");
    const statuses = new Map<string, number[]>();
    for (const request of sub)
      statuses.set(appIdOf(request), [...(statuses.get(appIdOf(request)) ?? []), request.status]);
    expect(statuses.get(throttled[0]!)).toEqual([429, 200]);
    expect(statuses.get(throttled[1]!)).toEqual([429, 200]);
    expect(statuses.get(throttled[2]!)).toEqual([429, 429, 200]);
    for (const id of appIds.filter((a) => !throttled.includes(a))) expect(statuses.get(id)).toEqual([200]);

    // Retry-After: 1 s on each 429 sub-response; three retry rounds waited 1 s each.
    expect(clock.now().getTime() - started).toBe(3_000);
    expect(logs.filter((l) => l.startsWith("warn "))).toEqual([
      "warn graph: 2 batched read(s) throttled; retrying in 1 s",
      "warn graph: 1 batched read(s) throttled; retrying in 1 s",
      "warn graph: 1 batched read(s) throttled; retrying in 1 s",
    ]);
  });

  it("reports ids the tenant does not have as not found, without extra requests", async () => {
    const missing = "00000000-0000-4000-8000-000000000001";
    const from = sim.requests.length;
    const read = await readAll([appIds[0]!, missing]);
    expect(read).toEqual([
      { appId: appIds[0], displayName: "watched 0" },
      { appId: missing, displayName: undefined },
    ]);
    expect(graphRequests(from, "top")).toHaveLength(1);
  });
});

describe('WATCH_APP_IDS="*" pages /applications', () => {
  it("with $select and $top=999, following @odata.nextLink to the last page", async () => {
    // Past one page: 999 per page.
    while (sim.tenant.apps.size < 2_100) {
      sim.tenant.addApp({ displayName: `bulk ${sim.tenant.apps.size}` }, { servicePrincipal: false });
    }
    const from = sim.requests.length;
    const pages: number[] = [];
    for await (const page of graph.listApplicationPages()) pages.push(page.length);

    expect(pages.reduce((a, b) => a + b, 0)).toBe(sim.tenant.apps.size);
    expect(pages).toEqual([999, 999, sim.tenant.apps.size - 1998]);
    const [first, ...rest] = graphRequests(from, "top");
    expect(first).toMatchObject({
      method: "GET",
      path: "/v1.0/applications",
      query: { $select: CREDENTIAL_SELECT.join(","), $top: "999" },
    });
    expect(rest).toHaveLength(2);
    for (const next of rest) {
      expect(next.path).toBe("/v1.0/applications");
      expect(next.query.$skiptoken).toBeDefined();
    }
  });
});

describe("paging /applications reads one page ahead", () => {
  async function until(condition: () => boolean, ms = 5_000): Promise<void> {
    const end = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > end) throw new Error("condition not met in time");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("asks for the next page while the caller still holds this one", async () => {
    while (sim.tenant.apps.size < 2_100) {
      sim.tenant.addApp({ displayName: `bulk ${sim.tenant.apps.size}` }, { servicePrincipal: false });
    }
    const from = sim.requests.length;
    const nextPageRequests = () => graphRequests(from, "top").filter((r) => r.query.$skiptoken !== undefined);
    let pages = 0;
    for await (const _page of graph.listApplicationPages()) {
      pages++;
      // Only the read-ahead can have sent it: the loop has not asked for the next page yet.
      if (pages === 1) await until(() => nextPageRequests().length === 1);
    }
    expect(pages).toBe(3);
    expect(nextPageRequests()).toHaveLength(2);
  });

  it("a caller that stops early is not hurt by the page read ahead failing", async () => {
    while (sim.tenant.apps.size < 2_100) {
      sim.tenant.addApp({ displayName: `bulk ${sim.tenant.apps.size}` }, { servicePrincipal: false });
    }
    const refused = refuseThePageAhead(
      sim,
      { service: "graph", path: "/v1.0/applications" },
      { status: 403, body: { error: { code: "Authorization_RequestDenied", message: "no" } } },
    );
    let pages = 0;
    for await (const _page of graph.listApplicationPages()) {
      pages++;
      await until(() => refused.hits === 1);
      break;
    }
    expect(pages).toBe(1);
    // An unhandled rejection from the abandoned read-ahead would fail this file; give it time to surface.
    await new Promise((r) => setTimeout(r, 50));
  });
});
