import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("a watched app that cannot be read", () => {
  it("is reported as watch.unreadable and never stops the connector's rotation", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const other = w.sim.tenant.addApp({ displayName: "Payroll" });
    const fault = w.sim.faults.add({
      service: "graph",
      method: "GET",
      path: new RegExp(`applications\\(appId='${other.appId}'\\)`),
      times: Infinity,
      response: {
        status: 403,
        body: {
          error: {
            code: "Authorization_RequestDenied",
            message: "Insufficient privileges to complete the operation.",
          },
        },
      },
    });
    const result = await w.pass({}, { WATCH_APP_IDS: other.appId });
    expect(fault.hits).toBeGreaterThan(0);
    expect(result.rotation.decision).toBe("rotated");
    expect(result.scan.problems.map((p) => p.code)).toEqual(["watch.unreadable"]);
    expect(result.exitCode).toBe(1);
    const events = JSON.stringify(w.sim.sinks.json("webhook"));
    expect(events).toContain(`watch.unreadable:${other.appId}`);
    expect(events).toMatch(/Application\.Read\.All/);

    // Readable again: the incident resolves.
    w.sim.faults.remove(fault);
    const next = await w.pass({}, { WATCH_APP_IDS: other.appId });
    expect(next.scan.problems).toEqual([]);
    const resolved = (w.sim.sinks.json("webhook") as { event: string; incident?: { key: string } }[]).filter(
      (e) => e.event === "incident.resolved" && e.incident?.key === `watch.unreadable:${other.appId}`,
    );
    expect(resolved).toHaveLength(1);
  });
});
