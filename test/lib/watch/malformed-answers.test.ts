/**
 * How a scan treats an answer Graph sent but that cannot be trusted: a watched
 * app's is reported as watch.unreadable (exit 1, never "ok"), the connector
 * app's is a Graph service error (the CLI's exit 3), never a stack trace.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DAY_MS, ManualClock } from "../../../lib/clock.js";
import { loadConfig } from "../../../lib/config.js";
import { createDeps, type Deps } from "../../../lib/deps.js";
import { MALFORMED } from "../../../lib/clients/answer.js";
import { HttpError } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";
import { scanCredentials, scanExitCode, type ScanDeps } from "../../../lib/watch/scan.js";

const clock = new ManualClock(new Date("2026-11-23T12:00:00Z"));
const thresholds = { alertBeforeDays: 14, rotateBeforeDays: 60 };
let sim: Simulator;
let deps: Deps;
let scanDeps: ScanDeps;
let watched: string;

/** The watched app as Graph might answer it: its one secret's end date unreadable. */
function garbled(appId: string): Record<string, unknown> {
  return {
    id: "obj-w",
    appId,
    displayName: "Payroll",
    passwordCredentials: [{ keyId: "k-1", displayName: "prod", endDateTime: "not a date" }],
    keyCredentials: [],
  };
}

beforeAll(async () => {
  sim = await startSimulator({ clock, seed: { connectorSecretDaysLeft: 100 } });
  const app = sim.tenant.addApp({ displayName: "Payroll" }, { servicePrincipal: false });
  // Critical in truth: a scan that read the garbled answer as "never expires" would say ok.
  sim.tenant.addSecret(app.id, {
    displayName: "prod",
    endDateTime: new Date(clock.now().getTime() + 2 * DAY_MS),
  });
  watched = app.appId;
  deps = createDeps(loadConfig(sim.env()), silentLogger, { clock });
  scanDeps = { nylas: deps.nylas, graph: () => deps.graph(), clock, logger: silentLogger };
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.faults.clear();
});

describe("a scan given a malformed Graph answer", () => {
  it("reports a listed watched app as watch.unreadable and exits 1", async () => {
    const fault = sim.faults.add({
      service: "graph",
      method: "GET",
      path: new RegExp(`applications\\(appId='${watched}'\\)$`),
      response: { status: 200, body: garbled(watched) },
    });
    const summary = await scanCredentials(scanDeps, { watchAppIds: [watched], thresholds });
    expect(fault.hits).toBe(1);
    expect(summary.problems.map((p) => [p.code, p.appId])).toEqual([["watch.unreadable", watched]]);
    expect(summary.problems[0]?.message).toContain(MALFORMED);
    expect(summary.problems[0]?.fix).toMatch(/could not be trusted/);
    expect(summary.soonest.some((r) => r.appId === watched)).toBe(false);
    expect(scanExitCode(summary)).toBe(1);
  });

  it('reports a malformed app of a WATCH_APP_IDS="*" page as watch.unreadable, and still reads the others', async () => {
    sim.faults.add({
      service: "graph",
      method: "GET",
      path: "/v1.0/applications",
      response: {
        status: 200,
        body: {
          value: [
            garbled(watched),
            { id: "obj-x", appId: "fine-app", displayName: "Fine", passwordCredentials: [] },
          ],
        },
      },
    });
    const summary = await scanCredentials(scanDeps, { watchAppIds: "*", thresholds });
    expect(summary.problems.map((p) => [p.code, p.appId])).toEqual([["watch.unreadable", watched]]);
    // The connector's app and the one readable listed app.
    expect(summary.apps).toBe(2);
    expect(scanExitCode(summary)).toBe(1);
  });

  it("the connector's app answered malformed is a Graph service error, not ok and not a TypeError", async () => {
    const connectorAppId = sim.tenant.nylas.connector!.settings.client_id!;
    sim.faults.add({
      service: "graph",
      method: "GET",
      path: new RegExp(`applications\\(appId='${connectorAppId}'\\)$`),
      response: { status: 200, body: { id: "obj-c", appId: connectorAppId, passwordCredentials: null } },
    });
    const error = await scanCredentials(scanDeps, { watchAppIds: [], thresholds }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect([(error as HttpError).service, (error as HttpError).code]).toEqual(["graph", MALFORMED]);
  });
});
