/**
 * `grantSweep` through the official seams (a Timer and an InvocationContext):
 * pages every grant by offset with limit=200, raises one incident per invalid
 * grant, resolves incidents of grants valid again or gone, records its run for
 * `health`, and fails loudly (throws) when Nylas cannot be read.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { grantSweep } from "../../functions/grant-sweep.js";
import { health } from "../../functions/health.js";
import type { HealthReport } from "../../lib/health.js";
import { setRuntimeDeps } from "../../lib/runtime.js";
import type { SimGrant } from "../../lib/sim/index.js";
import { acceptedAlerts, oncePerSink, tally } from "../helpers/alerts.js";
import { secretsIn, startWorld, type World } from "../helpers/watchdog-world.js";

const { HttpRequest, InvocationContext } = azureFunctions;
const GRANTS = 450;

let w: World;
let log: string[];
let context: InstanceType<typeof InvocationContext>;
let invalid: SimGrant[];
const key = (g: SimGrant) => `grant.invalid:${g.id}`;
const timer = (isPastDue = false) => ({ isPastDue }) as Timer;

beforeAll(async () => {
  w = await startWorld({
    host: false,
    seed: { grantEmails: Array.from({ length: GRANTS }, (_, i) => `user${i}@contoso.com`) },
  });
  // Invalid grants on every page: first, second and last.
  invalid = [w.grants[5]!, w.grants[250]!, w.grants[449]!];
  for (const g of invalid) g.grant_status = "invalid";
  w.sim.tenant.nylas.touch();
});
afterAll(async () => {
  await w?.close();
});
beforeEach(() => {
  setRuntimeDeps(w.deps);
  w.sim.sinks.clear();
  log = [];
  context = new InvocationContext({
    functionName: "grantSweep",
    logHandler: (level, ...args) => void log.push(`${level} ${args.map(String).join(" ")}`),
  });
});

describe("grantSweep (timer)", () => {
  it("pages every grant (offset, limit=200, until an empty page) and raises one incident per invalid grant", async () => {
    const before = w.sim.requests.length;
    await grantSweep(timer(), context);
    const pages = w.sim.requests
      .slice(before)
      .filter((r) => r.service === "nylas" && r.method === "GET" && r.path === "/v3/grants");
    expect(pages.map((r) => [r.query.offset, r.query.limit])).toEqual([
      ["0", "200"],
      ["200", "200"],
      ["400", "200"],
      [String(GRANTS), "200"],
    ]);
    const incidents = await w.incidents();
    expect(incidents.map((i) => i.key).sort()).toEqual(invalid.map(key).sort());
    for (const i of incidents)
      expect(i).toMatchObject({ status: "firing", severity: "critical", details: { seen_by: "sweep" } });
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink(invalid.map((g) => ["triggered", key(g)])),
    );
    expect(log.some((l) => l.includes(`grantSweep: ${GRANTS} grant(s), 3 invalid (3 new)`))).toBe(true);
  });

  it("a second sweep changes nothing and alerts nobody", async () => {
    await grantSweep(timer(), context);
    expect(w.sim.sinks.received).toEqual([]);
    expect((await w.incidents()).filter((i) => i.status === "firing")).toHaveLength(3);
  });

  it("valid again → resolved; deleted without a notification → resolved; once per sink each", async () => {
    const [again, gone] = invalid as [SimGrant, SimGrant, SimGrant];
    again.grant_status = "valid";
    w.sim.tenant.nylas.removeGrant(gone.id);
    await grantSweep(timer(true), context);
    expect(log.some((l) => l.startsWith("warning") && l.includes("running late"))).toBe(true);
    const byKey = Object.fromEntries((await w.incidents()).map((i) => [i.key, i]));
    expect(byKey[key(again)]).toMatchObject({
      status: "resolved",
      resolveNote: expect.stringContaining("re-authenticated"),
    });
    expect(byKey[key(gone)]).toMatchObject({
      status: "resolved",
      resolveNote: expect.stringContaining("no longer exists"),
    });
    expect(byKey[key(invalid[2]!)]!.status).toBe("firing");
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink([
        ["resolved", key(again)],
        ["resolved", key(gone)],
      ]),
    );
  });

  it("health (function) reports the sweep's run and the open incident, without a secret", async () => {
    const res = await health(new HttpRequest({ method: "GET", url: "http://localhost/api/health" }), context);
    expect(res.status).toBe(200);
    const report = res.jsonBody as HealthReport;
    expect(report.lastRuns.grantSweep).toMatchObject({ grants: GRANTS - 1, invalid: 1 });
    expect(report.openIncidents.map((i) => i.key)).toContain(key(invalid[2]!));
    expect(secretsIn(JSON.stringify(report), w.secrets)).toEqual([]);
  });

  it("throws when Nylas cannot be listed, so the platform records a failed run", async () => {
    w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      times: Infinity,
      response: { status: 503 },
    });
    try {
      await expect(grantSweep(timer(), context)).rejects.toThrow(/nylas: listing grants failed \(503/);
    } finally {
      w.sim.faults.clear();
    }
  });
});
