import { afterEach, describe, expect, it, vi } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { scanCredentials } from "../../../lib/watch/scan.js";
import { DAY_MS } from "../../../lib/clock.js";

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

  it("asks for the next page of /applications while it is still writing the apps of the one before", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 90 } });
    const w = world;
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "Application.Read.All");
    // Two pages: Graph answers at most 999 applications a page.
    for (let i = w.sim.tenant.apps.size; i < 1_500; i++) {
      const app = w.sim.tenant.addApp({ displayName: `app ${i}` }, { servicePrincipal: false });
      w.sim.tenant.addSecret(app.id, {
        displayName: "s",
        endDateTime: new Date(Date.now() + 90 * DAY_MS),
      });
    }
    const from = w.sim.requests.length;
    const pagesAskedFor = () =>
      w.sim.requests.slice(from).filter((r) => r.method === "GET" && r.path === "/v1.0/applications").length;
    // For each credential written: the page it came from (onProgress counts the connector's app,
    // then each page), and how many pages the simulator had been asked for by then.
    let handled = 0;
    const written: { page: number; asked: number }[] = [];
    const summary = await scanCredentials(w.deps(), {
      watchAppIds: "*",
      thresholds,
      onProgress: () => (handled += 1),
      onCredential: (r) => {
        if (r.source === "watched") written.push({ page: handled, asked: pagesAskedFor() });
      },
    });
    expect(summary.problems).toEqual([]);
    expect(summary.apps).toBe(1_500);
    const firstPage = written.filter((c) => c.page === 1);
    expect(firstPage.length).toBeGreaterThan(990);
    // The second page was asked for before the last app of the first was written.
    expect(firstPage.at(-1)?.asked).toBe(2);
  });
});
