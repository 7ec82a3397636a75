/**
 * An attempt whose answer never came is in doubt: the sink may have taken it.
 * Slack and Teams would post a second message for a second request, so their
 * record is held for `inDoubtHoldMs` and then retried (a rare duplicate beats
 * an alert never seen); PagerDuty (`dedup_key`) and the webhook
 * (`delivery_id`) de-duplicate, so they are retried on their usual schedule.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { Outbox, type DeliveryRecord, type OutboxOptions } from "../../../lib/incidents/outbox.js";
import { createPagerDutySink } from "../../../lib/incidents/sinks/pagerduty.js";
import { createSlackSink } from "../../../lib/incidents/sinks/slack.js";
import { createWebhookSink } from "../../../lib/incidents/sinks/webhook.js";
import { captureLogger, grantSignal } from "./fixtures.js";
import { MemoryStateStore } from "./memory-store.js";
import { SinkServer } from "./sink-server.js";

const PATHS = {
  webhook: "/hook/tok_indoubt_webhook",
  slack: "/services/T01/B02/tok_indoubt_slack",
  pagerduty: "/v2/enqueue",
} as const;

let server: SinkServer;
beforeEach(async () => {
  server = await new SinkServer().start();
  server.behave(PATHS.pagerduty, { okStatus: 202 });
});
afterEach(async () => {
  await server.close();
});

function world(options: OutboxOptions) {
  const store = new MemoryStateStore();
  const clock = new ManualClock();
  const logger = captureLogger();
  const sinks = [
    createWebhookSink({ url: server.url(PATHS.webhook) }),
    createSlackSink(server.url(PATHS.slack)),
    createPagerDutySink({
      routingKey: "R0UTINGKEYINDOUBT0000000000000000",
      eventsUrl: server.url(PATHS.pagerduty),
    }),
  ];
  const outbox = new Outbox({ store, clock, logger, sinks, options });
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  const record = (sink: string) => store.values<DeliveryRecord>("deliveries").find((d) => d.sink === sink)!;
  return { store, clock, logger, outbox, incidents, record };
}

describe("Outbox: attempts in doubt", () => {
  it("a timed-out Slack message is not sent again within the hold, then is; the webhook retries on its back-off", async () => {
    const w = world({ attemptTimeoutMs: 300, backoffBaseMs: 1_000, inDoubtHoldMs: 60_000 });
    server.behave(PATHS.slack, { hang: true });
    server.behave(PATHS.webhook, { hang: true });
    await w.incidents.raise(grantSignal("g1"));
    const start = w.clock.now().getTime();

    const first = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(first.sinks.slack?.failed).toBe(1);
    // One request each: a non-idempotent send is never repeated within the pass after a timeout.
    expect(server.requests.filter((r) => r.path === PATHS.slack)).toHaveLength(1);
    expect(Date.parse(w.record("slack").nextAttemptAt) - start).toBe(60_000);
    expect(Date.parse(w.record("webhook").nextAttemptAt) - start).toBe(1_000);

    server.behave(PATHS.slack, {});
    server.behave(PATHS.webhook, {});
    w.clock.advance(30_000);
    const early = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(early.sinks.webhook?.delivered).toBe(1);
    expect(early.sinks.slack?.delivered).toBe(0);
    expect(server.requests.filter((r) => r.path === PATHS.slack)).toHaveLength(1);

    w.clock.advance(30_000);
    const later = await w.outbox.deliverPending({ deadlineMs: 10_000 });
    expect(later.sinks.slack?.delivered).toBe(1);
    expect(server.accepted(PATHS.slack)).toHaveLength(1);
    expect(w.record("slack").state).toBe("delivered");
  });

  it("the drain's deadline cutting a send: Slack is held, PagerDuty is free again at once", async () => {
    const w = world({ inDoubtHoldMs: 90_000 });
    server.behave(PATHS.slack, { hang: true });
    server.behave(PATHS.pagerduty, { hang: true });
    await w.incidents.raise(grantSignal("g1"));
    const now = w.clock.now().getTime();

    const report = await w.outbox.deliverPending({ deadlineMs: 400 });
    expect(report.deadlineReached).toBe(true);
    expect(Date.parse(w.record("slack").nextAttemptAt) - now).toBe(90_000);
    expect(Date.parse(w.record("pagerduty").nextAttemptAt) - now).toBe(0);
    expect(
      w.logger.lines.some((l) => l.startsWith("warn Alert delivery in doubt") && l.includes("slack")),
    ).toBe(true);
    expect(w.logger.lines.some((l) => l.includes("in doubt") && l.includes("pagerduty"))).toBe(false);

    server.behave(PATHS.slack, {});
    server.behave(PATHS.pagerduty, { okStatus: 202 });
    const next = await w.outbox.deliverPending({ deadlineMs: 5_000 });
    expect(next.sinks.pagerduty?.delivered).toBe(1);
    expect(next.sinks.slack?.delivered).toBe(0);
    w.clock.advance(90_000);
    expect((await w.outbox.deliverPending({ deadlineMs: 5_000 })).sinks.slack?.delivered).toBe(1);
  });

  it("a drain stopped before a record's request left does not hold it", async () => {
    const w = world({ inDoubtHoldMs: 90_000 });
    await w.incidents.raise(grantSignal("g1"));
    const abort = new AbortController();
    abort.abort();
    await w.outbox.deliverPending({ deadlineMs: 5_000, abort: abort.signal });
    expect(server.requests).toHaveLength(0);
    const now = w.clock.now().getTime();
    for (const d of w.store.values<DeliveryRecord>("deliveries"))
      expect(Date.parse(d.nextAttemptAt)).toBeLessThanOrEqual(now);
    expect((await w.outbox.deliverPending({ deadlineMs: 5_000 })).delivered).toBe(3);
  });
});
