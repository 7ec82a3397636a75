/**
 * `startHost` (what `watchdog serve` runs): the HTTP functions on the Azure
 * routes, the function key on `/api/health`, both timers on their NCRONTAB
 * schedules, and a clean `close()` — in-flight requests finish, the port is
 * freed, the timers stop.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTriggers } from "../../../bin/triggers.js";
import { startHost, type RunningHost } from "../../../lib/host/serve.js";
import type { BuiltNotification } from "../../../lib/sim/index.js";
import { startWorld, type World } from "../../helpers/watchdog-world.js";

let w: World;
let host: RunningHost;
let closed = false;
/**
 * loadConfig refuses a schedule faster than once a minute (lib/config/fields.ts). These tests are
 * about serve's timer loop, not the settings, so they hand it per-second schedules past loadConfig:
 * a minute-long wait per run would make the suite crawl.
 */
const FAST_SCHEDULES = { grantSweep: "* * * * * *", watchdog: "*/2 * * * * *" };
beforeAll(async () => {
  w = await startWorld({ clock: "system", host: false });
  // What `watchdog serve` is handed: the triggers functions/*.ts declare.
  host = await startHost({
    port: 0,
    deps: { ...w.deps, config: { ...w.deps.config, schedules: FAST_SCHEDULES } },
    logger: w.logs,
    timers: true,
    triggers: await loadTriggers(),
  });
  w.webhook.webhook_url = `${host.url}/api/nylas/webhook`;
});
afterAll(async () => {
  if (!closed) await host?.close();
  await w?.close();
});

const deliver = (built: BuiltNotification) =>
  fetch(`${host.url}/api/nylas/webhook`, { method: "POST", headers: built.headers, body: built.body });

/** Sweeps started: each reads the grant list from offset 0 (and on until an empty page). */
const sweeps = () =>
  w.sim.requests.filter(
    (r) => r.service === "nylas" && r.method === "GET" && r.path === "/v3/grants" && r.query.offset === "0",
  ).length;

async function until(condition: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("startHost", () => {
  it("serves the Azure routes: challenge on /api/nylas/webhook (with or without a trailing slash), 404 elsewhere", async () => {
    const base = host.url;
    for (const path of ["/api/nylas/webhook", "/api/nylas/webhook/"]) {
      const res = await fetch(`${base}${path}?challenge=hello%20nylas`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await res.text()).toBe("hello nylas");
    }
    expect((await fetch(`${base}/api/nylas`)).status).toBe(404);
    expect((await fetch(`${base}/nylas/webhook`)).status).toBe(404);
  });

  it("guards /api/health with the function key and allows GET only", async () => {
    const url = `${host.url}/api/health`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { "x-functions-key": `${host.healthKey}x` } })).status).toBe(401);
    const ok = await fetch(url, { headers: { "x-functions-key": host.healthKey } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
    const post = await fetch(url, { method: "POST", headers: { "x-functions-key": host.healthKey } });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });

  it("runs both timers on their schedules", async () => {
    expect(w.logs.lines.some((l) => l.includes('serve: grantSweep on "* * * * * *", next run'))).toBe(true);
    expect(w.logs.lines.some((l) => l.includes('serve: secretWatchdog on "*/2 * * * * *", next run'))).toBe(
      true,
    );
    await until(async () => {
      const store = await w.deps.store();
      return (
        (await store.get("runs", "grantSweep")) !== undefined &&
        (await store.get("runs", "secretWatchdog")) !== undefined
      );
    });
    expect(sweeps()).toBeGreaterThan(0);
    expect(w.sim.requests.some((r) => r.service === "graph")).toBe(true);
  });

  it("logs a timer that fails, and keeps its schedule", async () => {
    const fault = w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      times: Infinity,
      response: { status: 401 },
    });
    await until(() =>
      w.logs.lines.some((l) => l.startsWith("error [grantSweep] failed: nylas: listing grants failed (401")),
    );
    w.sim.faults.remove(fault);
    const before = sweeps();
    await until(() => sweeps() > before);
  });

  it("close() answers the in-flight webhook, lets a running timer finish, frees the port at once and stops the timers", async () => {
    const g = w.grants[0]!;
    // Slow Nylas: confirming a grant takes 1.5 s, listing grants (each sweep) 0.8 s.
    w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: `/v3/grants/${g.id}`,
      times: Infinity,
      response: { delayMs: 1_500 },
    });
    w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      times: Infinity,
      response: { delayMs: 800 },
    });
    const inFlight = (path: string) => w.sim.requests.some((r) => r.path === path && r.status === 0);
    const answer = deliver(w.build("grant.updated", g));
    await until(() => inFlight(`/v3/grants/${g.id}`) && inFlight("/v3/grants"));

    const started = performance.now();
    const closing = host.close();
    closed = true;
    const res = await answer;
    expect(res.status).toBe(200);
    await closing;
    const closeMs = performance.now() - started;
    // The in-flight answer (≤ 1.5 s) bounds it; an idle keep-alive connection must not hold it up.
    expect(closeMs).toBeLessThan(3_000);

    // The sweep that was running finished (its last request answered, its result logged).
    expect(w.sim.requests.filter((r) => r.service === "nylas" && r.status === 0)).toEqual([]);
    const finished = w.logs.lines.filter((l) => /grantSweep: \d+ grant|\[grantSweep\] failed/.test(l)).length;
    expect(finished).toBe(sweeps());

    await expect(fetch(`${host.url}/api/nylas/webhook?challenge=x`)).rejects.toThrow();
    const after = sweeps();
    await new Promise((r) => setTimeout(r, 2_200));
    expect(sweeps()).toBe(after);
  });
});
