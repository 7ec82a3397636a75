/**
 * `readHealth` lists at most 50 open incidents: which 50 must not depend on the
 * order the store happens to list them in. Criticals come first, then the oldest.
 */
import { describe, expect, it } from "vitest";
import { HOUR_MS, ManualClock } from "../../lib/clock.js";
import { readHealth } from "../../lib/health.js";
import { IncidentManager } from "../../lib/incidents/incident-manager.js";
import { Outbox } from "../../lib/incidents/outbox.js";
import { captureLogger, grantSignal } from "./incidents/fixtures.js";
import { MemoryStateStore } from "./incidents/memory-store.js";

function world() {
  const store = new MemoryStateStore();
  const clock = new ManualClock();
  const logger = captureLogger();
  const outbox = new Outbox({ store, clock, logger, sinks: [] });
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  const deps = {
    clock,
    config: { schedules: { watchdog: "0 0 */6 * * *", grantSweep: "0 */30 * * * *" } },
    store: () => Promise.resolve(store),
    incidents: () => Promise.resolve(incidents),
  };
  return { clock, incidents, deps };
}

describe("readHealth: open incidents", () => {
  it("with 60 open, every critical is listed, first, even when opened last", async () => {
    const w = world();
    for (let i = 0; i < 55; i++) {
      await w.incidents.raise(grantSignal(`w${i}`));
      w.clock.advance(60_000);
    }
    for (let i = 0; i < 5; i++) {
      await w.incidents.raise(grantSignal(`c${i}`, { key: `grant.invalid:c${i}`, severity: "critical" }));
      w.clock.advance(60_000);
    }

    const report = await readHealth(w.deps);

    expect(report.openIncidentCount).toBe(60);
    expect(report.status).toBe("attention");
    expect(report.openIncidents).toHaveLength(50);
    expect(report.openIncidents.slice(0, 5).map((i) => i.key)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `grant.invalid:c${i}`),
    );
    // Then the oldest warnings; the 5 newest are the ones left out.
    const warnings = report.openIncidents.slice(5);
    expect(warnings.every((i) => i.severity === "warning")).toBe(true);
    expect(warnings.map((i) => i.key)).toEqual(Array.from({ length: 45 }, (_, i) => `grant.invalid:w${i}`));
  });

  it("orders warning before info, and within a severity the oldest first", async () => {
    const w = world();
    await w.incidents.raise(grantSignal("i0", { severity: "info" }));
    w.clock.advance(HOUR_MS);
    await w.incidents.raise(grantSignal("w1"));
    w.clock.advance(HOUR_MS);
    await w.incidents.raise(grantSignal("w0"));
    w.clock.advance(HOUR_MS);
    await w.incidents.raise(grantSignal("c0", { severity: "critical" }));

    const report = await readHealth(w.deps);

    expect(report.openIncidents.map((i) => i.key)).toEqual([
      "grant.invalid:c0",
      "grant.invalid:w1",
      "grant.invalid:w0",
      "grant.invalid:i0",
    ]);
  });
});
