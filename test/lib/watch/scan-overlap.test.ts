import { afterEach, describe, expect, it, vi } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { scanCredentials } from "../../../lib/watch/scan.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const thresholds = { alertBeforeDays: 14, rotateBeforeDays: 60 };

describe("scan: the connector's evidence beside the first page", () => {
  it("reads the connector's app while the first page of /applications is still coming, and writes it first", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 90 } });
    const w = world;
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "Application.Read.All");
    const connectorAppId = w.sim.nylasApp!.appId;
    const from = w.sim.requests.length;
    // The first page answers 800 ms late (wall clock).
    w.sim.faults.add({
      service: "graph",
      method: "GET",
      path: "/v1.0/applications",
      response: { delayMs: 800 },
    });

    const order: string[] = [];
    const scanning = scanCredentials(w.deps(), {
      watchAppIds: "*",
      thresholds,
      onCredential: (r) => order.push(r.source),
    });
    // When the connector's app is asked for, the page has been asked for and is not answered yet.
    const seen = await vi.waitFor(
      () => {
        const sent = w.sim.requests.slice(from);
        const connectorRead = sent.find((r) => r.path === `/v1.0/applications(appId='${connectorAppId}')`);
        const page = sent.find((r) => r.path === "/v1.0/applications");
        if (connectorRead === undefined || page === undefined)
          throw new Error("the connector's app and the first page were not both asked for");
        return { pageAnswered: page.status !== 0 }; // 0 until answered
      },
      { timeout: 5_000, interval: 5 },
    );
    expect(seen.pageAnswered).toBe(false);

    const summary = await scanning;
    expect(summary.problems).toEqual([]);
    // The connector's secrets still come first in the output.
    expect(order[0]).toBe("connector");
    expect(order.lastIndexOf("connector")).toBeLessThan(order.indexOf("watched"));
  });
});
