/**
 * A drain for some sinks reads and sends only their records; and in the
 * webhook's background drain a sink that has sent what it read goes on with
 * what was asked for while it sent, without waiting for a slower sink's round.
 */
import { describe, expect, it, vi } from "vitest";
import { HOUR_MS, ManualClock } from "../../../lib/clock.js";
import type { SinkName } from "../../../lib/incidents/incident.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { Outbox } from "../../../lib/incidents/outbox.js";
import { costWorld } from "./outbox-cost.js";
import { captureLogger, grantSignal } from "./fixtures.js";
import { heldSinks } from "./held-sinks.js";
import { MemoryStateStore } from "./memory-store.js";

describe("Outbox.deliverPending for some sinks", () => {
  it("reads and sends only the records of the sinks it was given", async () => {
    const w = costWorld(new MemoryStateStore());
    // The first drain runs the daily upkeep, which reads every record: out of the way first.
    await w.outbox.deliverPending({ deadlineMs: 10_000 });
    await w.incidents.raise(grantSignal("g1"));
    w.clock.advance(HOUR_MS);
    w.store.take();
    const other = await w.outbox.deliverPending({ deadlineMs: 10_000, sinks: ["slack"] });
    expect(other.delivered).toBe(0);
    expect(w.store.take().deliveries ?? 0).toBe(0);
    expect(w.sent).toHaveLength(0);

    const own = await w.outbox.deliverPending({ deadlineMs: 10_000, sinks: ["webhook"] });
    expect(own.delivered).toBe(1);
    expect(w.sent).toHaveLength(1);
  });
});

describe("Outbox.deliverPending with `asked`", () => {
  it("sends a healthy sink's new alerts while a slow sink is still busy with its round", async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock();
    const logger = captureLogger();
    // The webhook's first answer is held (releaseHealthy) while Slack holds its own (releaseSlow).
    const { fetch, sinks, sent, releaseSlow, releaseHealthy } = heldSinks();
    const outbox = new Outbox({ store, clock, logger, sinks, fetch });
    const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
    const announce = (key: string, to: SinkName[]) =>
      incidents.announce({
        event: "rotation.succeeded",
        idempotencyKey: key,
        severity: "info",
        summary: `announcement ${key}`,
        details: {},
        sinks: to,
      });
    // The daily upkeep's first run, out of the way.
    await outbox.deliverPending({ deadlineMs: 10_000 });

    let asked = 1;
    await announce("first", ["webhook", "slack"]);
    const drain = outbox.deliverPending({ deadlineMs: 10_000, asked: () => asked });
    // Asked again while the webhook is still sending what it read (as under a steady load).
    await announce("second", ["webhook"]);
    asked++;
    releaseHealthy();
    // Slack still holds its first message: the webhook's second goes out all the same.
    await vi.waitFor(() => expect(sent.map((s) => s.sink)).toEqual(["webhook", "webhook"]));
    expect(sent[1]!.body).toContain("announcement second");

    releaseSlow();
    const report = await drain;
    expect(report.delivered).toBe(3);
    expect(sent.map((s) => s.sink)).toEqual(["webhook", "webhook", "slack"]);
  });
});
