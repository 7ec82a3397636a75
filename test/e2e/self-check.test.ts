/**
 * Issue 12's self-check, end to end through the official seams: the watchdog deployed with an
 * identity that lacks its Graph permission fails every pass; the timer's self-check, run as that
 * identity, raises `setup.broken:app.permission` with the fix on every sink, and `/api/health` and
 * `watchdog health` show it. Granting the role and restarting the Function App (the fix's own
 * words: a token issued before the grant does not carry it) resolves it at the next pass.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { health } from "../../functions/health.js";
import { HOUR_MS } from "../../lib/clock.js";
import { secretWatchdog } from "../../functions/secret-watchdog.js";
import { createDeps } from "../../lib/deps.js";
import type { HealthReport } from "../../lib/health.js";
import { invocationLogger, setRuntimeDeps } from "../../lib/runtime.js";
import { acceptedAlerts, oncePerSink, tally } from "../helpers/alerts.js";
import { runWatchdog } from "../helpers/cli.js";
import { secretsIn, startWorld, type World } from "../helpers/watchdog-world.js";

const { HttpRequest, InvocationContext } = azureFunctions;
const KEY = "setup.broken:app.permission";
const OWNED_BY = "Application.ReadWrite.OwnedBy";

let w: World;
beforeAll(async () => {
  w = await startWorld({ host: false });
  // Deployed without the Graph permission (the post-provision step could not grant it).
  w.sim.tenant.revokeAppRole(w.sim.watchdog.servicePrincipalId, OWNED_BY);
  setRuntimeDeps(w.deps);
});
afterAll(async () => {
  await w?.close();
});

const timerPass = () =>
  secretWatchdog({ isPastDue: false } as Timer, new InvocationContext({ functionName: "secretWatchdog" }));

async function probe(): Promise<{ status: number; report: HealthReport }> {
  const res = await health(
    new HttpRequest({ method: "GET", url: "http://localhost/api/health" }),
    new InvocationContext({ functionName: "health" }),
  );
  return { status: res.status!, report: res.jsonBody as HealthReport };
}

const incident = async () => (await w.deps.incidents()).get(KEY);
const setupAlerts = () => tally(acceptedAlerts(w.sim.sinks.received, "setup.broken:"));

describe("the deployed self-check: setup.broken:app.permission", () => {
  it("the identity lacks the role → the pass fails, and the self-check raises the incident with the fix on every sink", async () => {
    await expect(timerPass()).rejects.toThrow(/403/);

    const raised = await incident();
    const oid = w.sim.watchdog.servicePrincipalId;
    expect(raised).toMatchObject({ status: "firing", kind: "setup.broken", severity: "critical" });
    expect(raised!.summary).toContain(`The watchdog (object id ${oid}) cannot read or rotate`);
    expect(raised!.summary).toContain(`lacks the Graph application permission ${OWNED_BY}`);
    const fix = raised!.remediation.join("\n");
    expect(fix).toContain(`/servicePrincipals/${oid}/appRoleAssignments`);
    expect(fix).toContain('"appRoleId":"18a4783c-866b-4cc7-a460-3d5e5662c884"');
    // The identity cannot read Graph's service principal; the operator is told how to find it.
    expect(fix).toContain("az ad sp show --id 00000003-0000-0000-c000-000000000000 --query id -o tsv");
    // Nor its own role assignments: so the fix says what to do once the role is granted.
    expect(fix).toContain("Granted it already? A token carries only the roles assigned before it was issued");
    expect(raised!.details).toMatchObject({ check: "app.permission", identity_object_id: oid });
    // One cause, one incident: app.found defers to app.permission.
    const open = (await w.incidents()).filter((i) => i.status === "firing").map((i) => i.key);
    expect(open.filter((k) => k.startsWith("setup.broken:"))).toEqual([KEY]);
    expect(setupAlerts()).toEqual(oncePerSink([["triggered", KEY]]));
  });

  it("/api/health answers 503 degraded with the last self-check; `watchdog health --json` carries it as a problem", async () => {
    const { status, report } = await probe();
    expect(status).toBe(503);
    expect(report.status).toBe("degraded");
    expect(report.staleness.status).toBe("ok");
    expect(report.selfCheck).toMatchObject({
      checkedAt: w.clock.now().toISOString(),
      deployment: expect.stringMatching(/^build [0-9a-f]{12} settings [0-9a-f]{8}$/) as unknown,
      identity: { objectId: w.sim.watchdog.servicePrincipalId, appId: w.sim.watchdog.appId },
      failing: [expect.objectContaining({ id: "app.permission", severity: "critical" })],
    });

    const cli = await runWatchdog(["health", "--json"], w.env);
    expect(cli.code).toBe(1);
    const doc = JSON.parse(cli.stdout) as Record<string, unknown> & { problems: unknown[] };
    expect(doc).toMatchObject({ schema: "secret-watchdog.health/v1", exitCode: 1, status: "degraded" });
    expect(doc.problems).toEqual([
      {
        code: KEY,
        message: expect.stringContaining("cannot read or rotate") as unknown,
        fix: expect.stringContaining("/appRoleAssignments") as unknown,
      },
    ]);
    const text = await runWatchdog(["health"], w.env);
    expect(text.stdout).toMatch(/^Health: DEGRADED /);
    expect(text.stdout).toContain(`  - ${KEY}: Self-check app.permission`);
    expect(text.stdout).toMatch(/^ {2}critical {2}setup\.broken:app\.permission$/m);
    expect(secretsIn(cli.stdout + text.stdout + JSON.stringify(report), w.secrets)).toEqual([]);
  });

  it("granted, but the running app's token predates it → the next pass checks again and it stays open", async () => {
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, OWNED_BY);
    w.manualClock!.advance(HOUR_MS);
    await expect(timerPass()).rejects.toThrow(/403/);
    expect((await incident())?.status).toBe("firing");
    // Checked again at this pass: a failing check is re-checked at every pass, not daily.
    const { report } = await probe();
    expect(report.selfCheck?.checkedAt).toBe(w.clock.now().toISOString());
    // Unchanged, so not re-sent: one trigger per sink so far.
    expect(setupAlerts()).toEqual(oncePerSink([["triggered", KEY]]));
  });

  it("restarted → the next pass succeeds, its self-check resolves the incident saying what is true now, health ok", async () => {
    // What a restart of the Function App does: new clients, so a new token with the role in it.
    setRuntimeDeps(createDeps(w.config, invocationLogger(), { clock: w.manualClock! }));
    await timerPass();

    const resolved = await incident();
    expect(resolved?.status).toBe("resolved");
    expect(resolved!.resolveNote).toMatch(
      /^The self-check passes app\.permission again: The watchdog \(object id [0-9a-f-]+\) can rotate .*least privilege/,
    );
    expect(setupAlerts()).toEqual(
      oncePerSink([
        ["triggered", KEY],
        ["resolved", KEY],
      ]),
    );
    const { status, report } = await probe();
    expect(status).toBe(200);
    expect(report.status).toBe("ok");
    expect(report.selfCheck?.failing).toEqual([]);
    // WEBHOOK_PUBLIC_URL is unset here: doctor's warning is shown, but opens no incident.
    expect(report.selfCheck?.warnings).toEqual(["webhook.subscription"]);

    // All well now: the next pass, an hour later, does not check again (daily, or after a deployment).
    const checkedAt = report.selfCheck?.checkedAt;
    w.manualClock!.advance(HOUR_MS);
    await timerPass();
    expect((await probe()).report.selfCheck?.checkedAt).toBe(checkedAt);
  });
});
