/**
 * WATCH_APP_IDS of 500 apps against Graph's limit on reads that select
 * keyCredentials (150 per minute per tenant, Graph docs "Get application"):
 * every throttled sub-request waits for its Retry-After and is read, none is
 * lost, and no 429 reaches the caller.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { scanCredentials } from "../../../lib/watch/scan.js";
import { DAY_MS } from "../../../lib/clock.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("500 watched apps under the keyCredentials throttle", () => {
  // fidelity: E14
  it("reads every app, waiting out each 429's Retry-After", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 120 } });
    const w = world;
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      const app = w.sim.tenant.addApp({ displayName: `app ${i}` });
      w.sim.tenant.addSecret(app.id, { endDateTime: new Date(w.clock.now().getTime() + 200 * DAY_MS) });
      ids.push(app.appId);
    }
    w.sim.tenant.keyCredentialsThrottle = { perMinute: 150 };
    const started = w.clock.now().getTime();
    const summary = await scanCredentials(w.deps(), {
      watchAppIds: ids,
      thresholds: { alertBeforeDays: 14, rotateBeforeDays: 60 },
    });
    expect(summary.problems).toEqual([]);
    expect(summary.apps).toBe(501);
    const throttled = w.sim.requests.filter((r) => r.batch === true && r.status === 429);
    expect(throttled.length).toBeGreaterThan(0); // the limit was really hit…
    // …and waited out: 501 keyCredentials reads at 150 a minute take at least three minutes of Graph's time.
    expect(w.clock.now().getTime() - started).toBeGreaterThanOrEqual(3 * 60_000);
  });

  // fidelity: E15
  it("a watched app Graph refuses (403) is reported, and the connector still rotates", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const other = w.sim.tenant.addApp({ displayName: "Payroll" });
    w.sim.tenant.unreadableApps.add(other.appId);
    const result = await w.pass({}, { WATCH_APP_IDS: other.appId });
    expect(result.rotation.decision).toBe("rotated");
    expect(result.scan.problems.map((p) => p.code)).toEqual(["watch.unreadable"]);
  });
});
