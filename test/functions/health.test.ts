/**
 * `health` through the official seams: JSON with the last runs, the open
 * incidents and the next expiry — "ok" on a fresh deployment, "attention"
 * with a critical incident open — and never a secret.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { health } from "../../functions/health.js";
import { secretWatchdog } from "../../functions/secret-watchdog.js";
import type { HealthReport } from "../../lib/health.js";
import { setRuntimeDeps } from "../../lib/runtime.js";
import { secretsIn, startWorld, type World } from "../helpers/watchdog-world.js";

const { HttpRequest, InvocationContext } = azureFunctions;

let w: World;
beforeAll(async () => {
  w = await startWorld({ host: false });
  setRuntimeDeps(w.deps);
});
afterAll(async () => {
  await w?.close();
});

async function report(): Promise<HealthReport> {
  const res = await health(
    new HttpRequest({ method: "GET", url: "http://localhost/api/health" }),
    new InvocationContext({ functionName: "health" }),
  );
  expect(res.status).toBe(200);
  expect(new Headers(res.headers as Record<string, string>).get("cache-control")).toBe("no-store");
  const body = res.jsonBody as HealthReport;
  expect(secretsIn(JSON.stringify(body), w.secrets)).toEqual([]);
  return body;
}

describe("health (function)", () => {
  it("a fresh deployment: ok, no runs yet, nothing open", async () => {
    expect(await report()).toEqual({
      status: "ok",
      checkedAt: w.clock.now().toISOString(),
      lastRuns: { secretWatchdog: null, grantSweep: null },
      nextExpiry: null,
      connectorSecrets: [],
      evidence: null,
      openIncidents: [],
      openIncidentCount: 0,
      staleness: {
        status: "ok",
        reasons: [],
        timers: {
          secretWatchdog: expect.objectContaining({ lastSuccess: null, state: "pending" }) as unknown,
          grantSweep: expect.objectContaining({ lastSuccess: null, state: "pending" }) as unknown,
        },
      },
    });
  });

  // fidelity: E3, E8, N10
  it("shows each connector secret's last sign-in and the evidence mode of the last pass", async () => {
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    await w.sim.nylas.tick();
    await secretWatchdog(
      { isPastDue: false } as Timer,
      new InvocationContext({ functionName: "secretWatchdog" }),
    );
    const r = await report();
    const held = w.sim.tenant.connectorSecret()!.password!;
    expect(r.connectorSecrets).toEqual([
      { keyId: held.keyId, endDateTime: held.endDateTime, lastSignIn: w.clock.now().toISOString() },
    ]);
    expect(r.evidence?.mode).toBe("evidence");
    w.sim.tenant.revokeAppRole(w.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
  });

  it("after a watch pass and a grant.expired: the run, the next expiry and the critical incident → attention", async () => {
    await secretWatchdog(
      { isPastDue: false } as Timer,
      new InvocationContext({ functionName: "secretWatchdog" }),
    );
    const g = w.grants[0]!;
    g.grant_status = "invalid";
    const { nylasWebhook } = await import("../../functions/nylas-webhook.js");
    const built = w.build("grant.expired", g);
    const res = await nylasWebhook(
      new HttpRequest({
        method: "POST",
        url: "http://localhost/api/nylas/webhook",
        body: { string: built.body },
        headers: built.headers,
      }),
      new InvocationContext({ functionName: "nylasWebhook" }),
    );
    expect(res.status).toBe(200);

    const r = await report();
    expect(r.status).toBe("attention");
    expect(r.lastRuns.secretWatchdog).toMatchObject({ finishedAt: w.clock.now().toISOString() });
    const connectorSecret = w.sim.tenant.connectorSecret()!.password!;
    expect(r.nextExpiry).toMatchObject({
      keyId: connectorSecret.keyId,
      endDateTime: connectorSecret.endDateTime,
    });
    expect(r.openIncidents).toEqual([
      {
        key: `grant.invalid:${g.id}`,
        kind: "grant.invalid",
        severity: "critical",
        summary: expect.stringContaining(g.email) as string,
        firstSeen: w.clock.now().toISOString(),
      },
    ]);
    expect(r.openIncidentCount).toBe(1);
  });
});
