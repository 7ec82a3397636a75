/**
 * The simulator's Nylas delivering to the real host as Nylas does: a
 * compressed destination, a store outage answered 503 and re-delivered by
 * Nylas's retry policy until it lands (nothing lost, alerted once), and the
 * dashboard's "send test event", which must raise nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../helpers/watchdog-world.js";
import type { StateStore } from "../../lib/state/store.js";

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const grantIncidents = async (world: World) =>
  (await world.incidents()).filter((i) => i.kind === "grant.invalid");

describe("deliveries from the simulated Nylas", () => {
  // fidelity: W1
  it("a destination with compressed_delivery: the gzip delivery is verified, inflated and raises the incident", async () => {
    w = await startWorld();
    w.webhook.compressed_delivery = true;
    const grant = w.grants[0]!;
    const [delivery] = await w.sim.nylas.expireGrant(grant.id);
    expect(delivery).toMatchObject({ status: 200, compressed: true });
    expect((await grantIncidents(w)).map((i) => i.key)).toEqual([`grant.invalid:${grant.id}`]);
  });

  // fidelity: W4
  it("a store outage answers 503; Nylas re-delivers until it succeeds, and the alert goes out once", async () => {
    let down = 2; // the store fails the first two deliveries' writes
    const flaky = (store: StateStore): StateStore => ({
      description: store.description,
      get: (c, k) => store.get(c, k),
      put: (c, k, v, o) =>
        c === "events" && down > 0
          ? (down--, Promise.reject(new Error("storage unavailable")))
          : store.put(c, k, v, o),
      delete: (c, k, o) => store.delete(c, k, o),
      list: (c) => store.list(c),
    });
    w = await startWorld({ wrapState: flaky, clock: "system" });
    w.sim.nylas.retryPolicy = { attempts: 5, baseDelayMs: 20 };
    const grant = w.grants[0]!;
    await w.sim.nylas.expireGrant(grant.id);
    await w.sim.nylas.settle();
    const attempts = w.sim.nylas.deliveries.filter((d) => d.type === "grant.expired");
    expect(attempts.map((d) => d.status)).toEqual([503, 503, 200]);
    expect(new Set(attempts.map((d) => d.notificationId)).size).toBe(1);
    expect((await grantIncidents(w)).map((i) => i.key)).toEqual([`grant.invalid:${grant.id}`]);
    const pagerduty = w.sim.sinks.json("pagerduty") as { event_action: string }[];
    expect(pagerduty.filter((e) => e.event_action === "trigger")).toHaveLength(1);
  });

  // fidelity: W7
  it("send-test-event (mock payload, signed with Nylas's mock secret) is acknowledged and raises nothing", async () => {
    w = await startWorld();
    for (const trigger of ["grant.expired", "grant.updated"] as const) {
      const delivery = await w.sim.nylas.sendTestEvent(trigger, w.webhookUrl);
      expect(delivery.status).toBe(200);
    }
    expect(await w.incidents()).toEqual([]);
    expect(w.sim.sinks.received).toEqual([]);
  });
});
