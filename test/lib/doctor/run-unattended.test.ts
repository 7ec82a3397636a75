/**
 * Doctor's checks run unattended as the watchdog's identity (what the self-check runs): no
 * operator input, the excluded checks left out, and a check that could not run (`unknown`) told
 * apart from one that found a problem. Against the simulator, through the real SDKs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UNATTENDED_EXCLUDED, runUnattendedChecks } from "../../../lib/doctor/run-unattended.js";
import type { CheckId } from "../../../lib/doctor/check.js";
import { startDoctorWorld, type DoctorWorld } from "./harness.js";

let w: DoctorWorld;
beforeEach(async () => {
  w = await startDoctorWorld();
});
afterEach(async () => {
  await w.close();
});

const statusOf = (report: Awaited<ReturnType<typeof runUnattendedChecks>>, id: CheckId) =>
  report.results.find((r) => r.id === id)?.status;

describe("runUnattendedChecks", () => {
  it("a healthy deployment: every check it runs passes, as the watchdog's own identity", async () => {
    const report = await runUnattendedChecks(w.deps());
    expect(report.results.filter((r) => r.status !== "pass")).toEqual([]);
    const ids = report.results.map((r) => r.id);
    for (const excluded of Object.keys(UNATTENDED_EXCLUDED)) expect(ids).not.toContain(excluded);
    expect(ids).toContain("app.permission");
    expect(report.identity).toEqual({
      objectId: w.sim.watchdog.servicePrincipalId,
      appId: w.sim.watchdog.appId,
    });
  });

  it("Graph unreachable → the Graph checks are unknown (could not run), never fail", async () => {
    w.sim.faults.add({ service: "graph", path: /.*/, times: Infinity, response: { reset: true } });
    const report = await runUnattendedChecks(w.deps());
    expect(statusOf(report, "app.found")).toBe("unknown");
    expect(report.results.filter((r) => r.status === "fail")).toEqual([]);
    expect(statusOf(report, "connector.present")).toBe("pass");
  });

  it("Graph failing (503) on the app read → unknown, not evidence of a broken setup", async () => {
    w.sim.faults.add({
      service: "graph",
      path: /\/applications\(appId=/,
      times: Infinity,
      response: { status: 503, body: { error: { code: "ServiceUnavailable", message: "later" } } },
    });
    const report = await runUnattendedChecks(w.deps());
    const found = report.results.find((r) => r.id === "app.found")!;
    expect(found.status).toBe("unknown");
    expect(found.summary).toMatch(/^Could not run: .*503/);
  });

  it("Graph refusing (403) the app read although a role allows it → app.found fails (refused), app.permission skips", async () => {
    w.sim.tenant.unreadableApps.add(w.sim.nylasApp!.appId);
    const report = await runUnattendedChecks(w.deps());
    const found = report.results.find((r) => r.id === "app.found")!;
    expect(found.status).toBe("fail");
    expect(found.summary).toMatch(/^Refused: .*403/);
    expect(found.fix).toContain("The deployed identity was refused");
    expect(statusOf(report, "app.permission")).toBe("skip");
  });
});

describe("app.permission when the identity holds no role that reads app registrations", () => {
  beforeEach(() => {
    // As deployed when the post-provision step could not grant the Graph permission.
    w.sim.tenant.revokeAppRole(w.sim.watchdog.servicePrincipalId, "Application.ReadWrite.OwnedBy");
    w.sim.tenant.revokeAppRole(w.sim.watchdog.servicePrincipalId, "Directory.Read.All");
  });

  it("fails app.permission with the role assignment to make (app.found skips: one cause, one finding)", async () => {
    const report = await w.doctor();
    const permission = report.checks.find((c) => c.id === "app.permission")!;
    const found = report.checks.find((c) => c.id === "app.found")!;
    expect(found.status).toBe("skip");
    expect(found.summary).toContain("see app.permission");
    expect(permission.status).toBe("fail");
    const oid = w.sim.watchdog.servicePrincipalId;
    const appId = w.sim.nylasApp!.appId;
    expect(permission.summary).toBe(
      `The watchdog (object id ${oid}) cannot read or rotate the connector's app (client ID ${appId}): Graph refused to read it (403), and it lacks the Graph application permission Application.ReadWrite.OwnedBy and ownership of the app (could not be read).`,
    );
    expect(permission.fix).toContain(`/servicePrincipals/${oid}/appRoleAssignments`);
    expect(permission.fix).toContain('"appRoleId":"18a4783c-866b-4cc7-a460-3d5e5662c884"');
    // The object id is unreadable: the owner is added through the appId address instead.
    expect(permission.fix).toContain(`/applications(appId='${appId}')/owners/$ref`);
    expect(permission.fix).toContain(`az ad app owner add --id ${appId} --owner-object-id ${oid}`);
  });
});
