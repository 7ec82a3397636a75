/**
 * The decisions that rest on conditional writes, against the real directory store
 * the CLI uses (the in-memory store elsewhere only models it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { Outbox, type DeliveryRecord } from "../../../lib/incidents/outbox.js";
import { createPagerDutySink } from "../../../lib/incidents/sinks/pagerduty.js";
import { createWebhookSink } from "../../../lib/incidents/sinks/webhook.js";
import { FileStateStore } from "../../../lib/state/file-store.js";
import { captureLogger, grantSignal } from "./fixtures.js";
import { SinkServer } from "./sink-server.js";

let dir: string;
let server: SinkServer;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "watchdog-incidents-"));
  server = await new SinkServer().start();
  server.behave("/pd", { okStatus: 202 });
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function world() {
  const store = new FileStateStore(dir);
  const clock = new ManualClock();
  const logger = captureLogger();
  const newOutbox = () =>
    new Outbox({
      store,
      clock,
      logger,
      sinks: [
        createWebhookSink({ url: server.url("/hook"), secret: "whsec_test_secret" }),
        createPagerDutySink({ routingKey: "R".repeat(32), eventsUrl: server.url("/pd") }),
      ],
    });
  const outbox = newOutbox();
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  return { store, clock, outbox, newOutbox, incidents };
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("incidents on FileStateStore", () => {
  it("concurrent raises of one key: one incident, one notification per sink", async () => {
    const w = world();
    const results = await Promise.all(Array.from({ length: 5 }, () => w.incidents.raise(grantSignal("g1"))));
    expect(results.filter((r) => r.notified !== null)).toHaveLength(1);
    expect(await all(w.store.list("incidents"))).toHaveLength(1);
    const deliveries = await all(w.store.list<DeliveryRecord>("deliveries"));
    expect(deliveries.map((d) => d.value.sink).sort()).toEqual(["pagerduty", "webhook"]);
  });

  it("two concurrent drivers deliver each record once", async () => {
    const w = world();
    for (let i = 0; i < 6; i++) await w.incidents.raise(grantSignal(`g${i}`));
    await w.incidents.resolve("grant.invalid:g0", "fixed");
    const [a, b] = await Promise.all([
      w.outbox.deliverPending({ deadlineMs: 10_000 }),
      w.newOutbox().deliverPending({ deadlineMs: 10_000 }),
    ]);
    expect(a.delivered + b.delivered).toBe(14);
    expect(server.requests.filter((r) => r.path === "/hook")).toHaveLength(7);
    expect(server.requests.filter((r) => r.path === "/pd")).toHaveLength(7);
    const pd = server
      .accepted("/pd")
      .map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string });
    expect(pd.filter((e) => e.dedup_key === "grant.invalid:g0").map((e) => e.event_action)).toEqual([
      "trigger",
      "resolve",
    ]);
  });
});
