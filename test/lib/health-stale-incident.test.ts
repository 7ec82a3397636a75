/**
 * `watchdog.stale`: raised by the staleness verdict, left alone while a timer merely has not had time
 * to run (callers started at different times must not flap it), resolved when every timer is fresh.
 * `checkHealth` raises it before listing incidents; `readHealth` only reads.
 */
import { describe, expect, it } from "vitest";
import { HOUR_MS, ManualClock } from "../../lib/clock.js";
import { checkHealth, readHealth } from "../../lib/health.js";
import { STALE_KEY, reportStaleness } from "../../lib/health/stale-incident.js";
import { IncidentManager } from "../../lib/incidents/incident-manager.js";
import { Outbox } from "../../lib/incidents/outbox.js";
import { captureLogger } from "./incidents/fixtures.js";
import { MemoryStateStore } from "./incidents/memory-store.js";

const MIN = 60_000;

function world() {
  const store = new MemoryStateStore();
  const clock = new ManualClock();
  const logger = captureLogger();
  const outbox = new Outbox({ store, clock, logger, sinks: [] });
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  const startedAt = clock.now();
  const ports = {
    clock,
    logger,
    startedAt,
    config: { schedules: { watchdog: "0 0 */6 * * *", grantSweep: "0 */30 * * * *" } },
    store: () => Promise.resolve(store),
    incidents: () => Promise.resolve(incidents),
  };
  /** Both timers finish a pass now. */
  const pass = async () => {
    const at = clock.now().toISOString();
    await store.put("runs", "secretWatchdog", { startedAt: at, finishedAt: at });
    await store.put("runs", "grantSweep", { startedAt: at, finishedAt: at });
  };
  return { store, clock, incidents, ports, pass };
}

describe("reportStaleness", () => {
  it("fresh passes: nothing raised", async () => {
    const w = world();
    await w.pass();
    w.clock.advance(10 * MIN);
    expect((await reportStaleness(w.ports)).status).toBe("ok");
    expect(await w.incidents.get(STALE_KEY)).toBeUndefined();
  });

  it("timers stopped for two intervals: one critical watchdog.stale, not rewritten by every probe", async () => {
    const w = world();
    await w.pass();
    w.clock.advance(12 * HOUR_MS + MIN);

    const verdict = await reportStaleness(w.ports);
    expect(verdict.status).toBe("degraded");
    const raised = await w.incidents.get(STALE_KEY);
    expect(raised).toMatchObject({
      kind: "watchdog.stale",
      severity: "critical",
      status: "firing",
      notifications: 1,
      summary: expect.stringContaining("secretWatchdog or grantSweep") as string,
    });

    w.clock.advance(MIN);
    await reportStaleness(w.ports);
    expect(await w.incidents.get(STALE_KEY)).toEqual(raised);
  });

  it("resolves only once every timer is fresh, not while one is merely pending", async () => {
    const w = world();
    await w.pass();
    w.clock.advance(12 * HOUR_MS + MIN);
    await reportStaleness(w.ports);

    // The sweep ran again; the watch pass's record is gone (a new state store): the watch pass is pending.
    await w.store.delete("runs", "secretWatchdog");
    const at = w.clock.now().toISOString();
    await w.store.put("runs", "grantSweep", { startedAt: at, finishedAt: at });
    const pending = await reportStaleness({ ...w.ports, startedAt: w.clock.now() });
    expect(pending.timers.secretWatchdog.state).toBe("pending");
    expect((await w.incidents.get(STALE_KEY))?.status).toBe("firing");

    await w.pass();
    await reportStaleness(w.ports);
    expect(await w.incidents.get(STALE_KEY)).toMatchObject({
      status: "resolved",
      resolveNote: expect.stringContaining("finished a pass recently") as string,
    });
  });
});

describe("checkHealth and readHealth", () => {
  it("checkHealth raises before listing: the degraded report shows the incident it raised", async () => {
    const w = world();
    await w.pass();
    w.clock.advance(2 * HOUR_MS);

    expect((await readHealth(w.ports)).status).toBe("degraded");
    expect(await w.incidents.get(STALE_KEY)).toBeUndefined();

    const report = await checkHealth(w.ports);
    expect(report.status).toBe("degraded");
    expect(report.staleness.reasons).toEqual([
      expect.stringMatching(/^grantSweep last finished a pass 2 hours ago/),
    ]);
    expect(report.openIncidents.map((i) => i.key)).toEqual([STALE_KEY]);
  });

  it("degraded outranks attention; a fresh deployment with nothing run is ok", async () => {
    const w = world();
    expect((await checkHealth(w.ports)).status).toBe("ok");
    w.clock.advance(12 * HOUR_MS + MIN);
    const report = await checkHealth(w.ports);
    // The critical watchdog.stale is open too (attention), but the timers' state decides.
    expect(report.status).toBe("degraded");
    expect(report.staleness.timers.grantSweep.state).toBe("never-ran");
  });

  it("a store refusing the incident write still gets its report, with a warning", async () => {
    const w = world();
    class Refusing extends IncidentManager {
      override raise(): never {
        throw new Error("table storage said no");
      }
    }
    const refusing = new Refusing({
      store: w.store,
      clock: w.clock,
      logger: w.ports.logger,
      repeatHours: 24,
      outbox: new Outbox({ store: w.store, clock: w.clock, logger: w.ports.logger, sinks: [] }),
    });
    await w.pass();
    w.clock.advance(2 * HOUR_MS);
    const report = await checkHealth({ ...w.ports, incidents: () => Promise.resolve(refusing) });
    expect(report.status).toBe("degraded");
    expect(w.ports.logger.lines).toContainEqual(
      expect.stringMatching(
        /^warn health: could not update the watchdog.stale incident: table storage said no/,
      ),
    );
  });
});
