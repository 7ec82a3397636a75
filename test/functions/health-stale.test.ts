/**
 * Issue 12 item 1's acceptance, through the official seams: with both timers stopped for two
 * intervals `/api/health` answers 503 `degraded` and on-call is alerted by a `watchdog.stale`
 * incident on every sink; fresh passes give 200 `ok` again and resolve it.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOUR_MS } from "../../lib/clock.js";
import { health } from "../../functions/health.js";
import { grantSweep } from "../../functions/grant-sweep.js";
import { secretWatchdog } from "../../functions/secret-watchdog.js";
import type { HealthReport } from "../../lib/health.js";
import { setRuntimeDeps } from "../../lib/runtime.js";
import { acceptedAlerts, oncePerSink, tally } from "../helpers/alerts.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

const { HttpRequest, InvocationContext } = azureFunctions;
const STALE = "watchdog.stale";

let w: World;
beforeAll(async () => {
  w = await startWorld({ host: false });
  setRuntimeDeps(w.deps);
});
afterAll(async () => {
  await w?.close();
});

async function probe(): Promise<{ status: number; report: HealthReport }> {
  const res = await health(
    new HttpRequest({ method: "GET", url: "http://localhost/api/health" }),
    new InvocationContext({ functionName: "health" }),
  );
  expect(new Headers(res.headers as Record<string, string>).get("cache-control")).toBe("no-store");
  // The alert a probe raises goes out in the background: let it land before looking at the sinks.
  await (await w.deps.incidents()).backgroundIdle();
  return { status: res.status!, report: res.jsonBody as HealthReport };
}

async function runBothTimers(): Promise<void> {
  await secretWatchdog(
    { isPastDue: false } as Timer,
    new InvocationContext({ functionName: "secretWatchdog" }),
  );
  await grantSweep({ isPastDue: false } as Timer, new InvocationContext({ functionName: "grantSweep" }));
}

const staleAlerts = () => tally(acceptedAlerts(w.sim.sinks.received, STALE));

describe("health (function): timers that stopped", () => {
  it("fresh passes → 200 ok, nothing stale", async () => {
    expect((await probe()).status).toBe(200);
    await runBothTimers();
    const { status, report } = await probe();
    expect(status).toBe(200);
    expect(report.status).toBe("ok");
    expect(report.staleness.timers.secretWatchdog).toMatchObject({ state: "fresh", limitMs: 12 * HOUR_MS });
    expect(report.staleness.timers.grantSweep).toMatchObject({ state: "fresh", limitMs: HOUR_MS });
    expect(staleAlerts()).toEqual({});
  });

  it("timers stopped for two intervals → 503 degraded, and watchdog.stale alerts every sink once", async () => {
    w.manualClock!.advance(12 * HOUR_MS + 60_000);
    const { status, report } = await probe();
    expect(status).toBe(503);
    expect(report.status).toBe("degraded");
    expect(report.staleness.reasons).toEqual([
      expect.stringMatching(/^secretWatchdog last finished a pass 12 hours ago/),
      expect.stringMatching(/^grantSweep last finished a pass 12 hours ago/),
    ]);
    expect(report.openIncidents).toContainEqual(
      expect.objectContaining({ key: STALE, kind: STALE, severity: "critical" }),
    );
    expect(staleAlerts()).toEqual(oncePerSink([["triggered", STALE]]));

    // Monitors keep probing: still 503, and no new alert before ALERT_REPEAT_HOURS.
    w.manualClock!.advance(60_000);
    expect((await probe()).status).toBe(503);
    expect(staleAlerts()).toEqual(oncePerSink([["triggered", STALE]]));
  });

  it("the timers run again → 200 ok, and watchdog.stale resolved once per sink", async () => {
    await runBothTimers();
    const { status, report } = await probe();
    expect(status).toBe(200);
    expect(report.status).toBe("ok");
    expect(report.openIncidents.map((i) => i.key)).not.toContain(STALE);
    expect(staleAlerts()).toEqual(
      oncePerSink([
        ["triggered", STALE],
        ["resolved", STALE],
      ]),
    );
  });
});
