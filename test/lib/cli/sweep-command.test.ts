/**
 * `watchdog sweep [--json]`: one grantSweep pass from the CLI, the same code
 * the timer runs — invalid grants become incidents and alerts, pending alerts
 * are re-sent; exit 0 done · 2 bad configuration · 3 Nylas refusing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptedAlerts, oncePerSink, tally } from "../../helpers/alerts.js";
import { runWatchdog } from "../../helpers/cli.js";
import { secretsIn, startWorld, type World } from "../../helpers/watchdog-world.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({ host: false, clock: "system" });
});
afterAll(async () => {
  await w?.close();
});

describe("watchdog sweep", () => {
  it("raises an incident per invalid grant and alerts every sink → exit 0", async () => {
    const g = w.grants[1]!;
    g.grant_status = "invalid";
    w.sim.tenant.nylas.touch();
    const r = await runWatchdog(["sweep"], w.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Swept 3 grant\(s\): 1 invalid \(1 new incident\(s\)\), 0 resolved/);
    expect((await w.incidents()).map((i) => i.key)).toEqual([`grant.invalid:${g.id}`]);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink([["triggered", `grant.invalid:${g.id}`]]),
    );
    expect(secretsIn(r.stdout + r.stderr, w.secrets)).toEqual([]);
  });

  it("re-sends alerts a sink missed, once → --json reports the pass", async () => {
    const g = w.grants[2]!;
    g.grant_status = "invalid";
    w.sim.tenant.nylas.touch();
    w.sim.sinks.clear();
    w.sim.faults.add({ service: "sinks", path: /^\/slack\//, times: Infinity, response: { status: 503 } });
    expect((await runWatchdog(["sweep"], w.env)).code).toBe(0);
    expect(acceptedAlerts(w.sim.sinks.received).filter((a) => a.sink === "slack")).toEqual([]);

    w.sim.faults.clear();
    // Make the Slack delivery due now rather than after its back-off.
    const store = await w.deps.store();
    for await (const item of store.list<{ state: string; nextAttemptAt: string }>("deliveries")) {
      if (item.value.state === "pending")
        await store.put("deliveries", item.key, { ...item.value, nextAttemptAt: new Date(0).toISOString() });
    }
    const j = await runWatchdog(["sweep", "--json"], w.env);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      schema: "secret-watchdog.sweep/v1",
      grants: 3,
      invalid: 2,
      raised: 0,
      resolved: 0,
    });
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink([["triggered", `grant.invalid:${g.id}`]]),
    );
  });

  it("bad configuration → exit 2; Nylas refusing → exit 3", async () => {
    const bad = await runWatchdog(["sweep"], { ...w.env, ALERT_REPEAT_HOURS: "soon" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("ALERT_REPEAT_HOURS");
    w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      times: Infinity,
      response: { status: 401 },
    });
    try {
      const refused = await runWatchdog(["sweep"], w.env);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain("listing grants failed (401");
    } finally {
      w.sim.faults.clear();
    }
  });
});
