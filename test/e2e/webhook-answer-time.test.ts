/**
 * Nylas gives the endpoint 10 s, then counts the delivery as failed (and a
 * webhook that keeps failing is eventually disabled for good). With every
 * alert sink hanging, or Nylas itself hanging when a grant must be confirmed,
 * the answer still comes far inside that window — on the wall clock — and
 * nothing is lost: the next sweep delivers what the answer could not.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepGrants } from "../../lib/grants/grant-passes.js";
import type { DeliveryRecord } from "../../lib/incidents/outbox.js";
import { acceptedAlerts, oncePerSink, tally } from "../helpers/alerts.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

/** Well inside Nylas's 10 s: room for a slow cold start on top. */
const MAX_ANSWER_MS = 7_000;

let w: World;
beforeAll(async () => {
  // Answer times are measured on the wall clock; the product's own clock is manual so the test
  // can step past the hold on messages that may have reached a sink (lib/incidents/delivery-attempt.ts).
  w = await startWorld();
});
afterAll(async () => {
  await w?.close();
});

async function deliveryStates(): Promise<string[]> {
  const store = await w.deps.store();
  const out: string[] = [];
  for await (const item of store.list<DeliveryRecord>("deliveries"))
    out.push(`${item.value.sink}:${item.value.state}`);
  return out.sort();
}

describe("answer time", () => {
  it(`every sink hanging → grant.expired answered 200 in < ${MAX_ANSWER_MS} ms; the sweep delivers once they recover`, async () => {
    const g = w.grants[0]!;
    g.grant_status = "invalid";
    w.sim.tenant.nylas.touch();
    w.sim.faults.add({ service: "sinks", path: /.*/, times: Infinity, response: { hang: true } });

    const res = await w.deliver(w.build("grant.expired", g));
    console.info(`nylasWebhook answer time with every sink hanging: ${Math.round(res.ms)} ms`);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(MAX_ANSWER_MS);
    expect((await w.incidents()).map((i) => i.key)).toEqual([`grant.invalid:${g.id}`]);
    // Recorded, not lost: one pending delivery per sink.
    expect(await deliveryStates()).toEqual([
      "pagerduty:pending",
      "slack:pending",
      "teams:pending",
      "webhook:pending",
    ]);
    expect(w.sim.sinks.received).toEqual([]);

    w.sim.faults.clear();
    // The hung requests end at the sinks' timeout in the background drain; Slack and Teams may have
    // posted them, so they are held for a while before being sent again.
    await (await w.deps.incidents()).backgroundIdle();
    w.manualClock!.advance(3 * 60_000);
    await sweepGrants(w.deps);
    expect(await deliveryStates()).toEqual([
      "pagerduty:delivered",
      "slack:delivered",
      "teams:delivered",
      "webhook:delivered",
    ]);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink([["triggered", `grant.invalid:${g.id}`]]),
    );
  });

  it(`Nylas hanging while a grant.updated is confirmed → answered in < ${MAX_ANSWER_MS} ms; the sweep finishes it`, async () => {
    const g = w.grants[0]!;
    g.grant_status = "valid";
    w.sim.tenant.nylas.touch();
    w.sim.sinks.clear();
    const fault = w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: `/v3/grants/${g.id}`,
      times: Infinity,
      response: { hang: true },
    });

    const res = await w.deliver(w.build("grant.updated", g));
    console.info(
      `nylasWebhook answer time with Nylas hanging: ${Math.round(res.ms)} ms (status ${res.status})`,
    );
    expect(res.ms).toBeLessThan(MAX_ANSWER_MS);
    // Not processed yet: a 5xx asks Nylas to retry, and the sweep re-drives it anyway.
    expect(res.status).toBe(503);
    expect((await w.incidents())[0]!.status).toBe("firing");

    w.sim.faults.remove(fault);
    await sweepGrants(w.deps);
    expect((await w.incidents())[0]!.status).toBe("resolved");
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink([["resolved", `grant.invalid:${g.id}`]]),
    );
  });
});
