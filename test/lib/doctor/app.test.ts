import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatCheck } from "../../../lib/doctor/format-doctor.js";
import { check, startDoctorWorld, type DoctorWorld } from "./harness.js";

let w: DoctorWorld;
beforeEach(async () => {
  w = await startDoctorWorld();
});
afterEach(async () => {
  await w.close();
});

describe("app.found", () => {
  it("passes when the connector's client_id is an app in AZURE_TENANT_ID", async () => {
    const c = check(await w.doctor(), "app.found");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain(w.sim.nylasApp!.appId);
  });

  it("fails with the 700016 cause when the client_id is unknown", async () => {
    const wrong = "11111111-2222-3333-4444-555555555555";
    w.sim.tenant.nylas.connector!.settings.client_id = wrong;
    const report = await w.doctor();
    const c = check(report, "app.found");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain(`No app registration with client ID ${wrong}`);
    expect(printed).toContain("AADSTS700016");
    expect(printed).toContain("the client ID is wrong, or AZURE_TENANT_ID names another tenant");
    expect(printed).toContain(
      "Application (client) ID, the Client Secret Value, and the Redirect URI are entered exactly",
    );
    expect(check(report, "secrets.live").status).toBe("skip");
    expect(check(report, "app.redirect-uri").summary).toContain("see app.found");
  });

  it("names the owning tenant when only the enterprise application is here", async () => {
    const other = "99999999-8888-7777-6666-555555555555";
    const appId = "12121212-3434-5656-7878-909090909090";
    w.sim.tenant.addServicePrincipal({
      appId,
      displayName: "someone else's app",
      appOwnerOrganizationId: other,
    });
    w.sim.tenant.nylas.connector!.settings.client_id = appId;
    const c = check(await w.doctor(), "app.found");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain(`Set AZURE_TENANT_ID=${other}`);
  });
});

describe("app.permission", () => {
  it("passes with Application.ReadWrite.OwnedBy and ownership (least privilege)", async () => {
    const c = check(await w.doctor(), "app.permission");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("least privilege");
  });

  it("fails when the watchdog is not an owner, with the command to add it", async () => {
    w.sim.tenant.removeOwner(w.sim.nylasApp!.id, w.sim.watchdog.servicePrincipalId);
    const c = check(await w.doctor(), "app.permission");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain("lacks ownership of the app");
    expect(printed).toContain(
      `az ad app owner add --id ${w.sim.nylasApp!.appId} --owner-object-id ${w.sim.watchdog.servicePrincipalId}`,
    );
    expect(printed).toContain(`/applications/${w.sim.nylasApp!.id}/owners/$ref`);
  });

  it("fails without the Graph permission, with the app role assignment to make", async () => {
    w.sim.tenant.revokeAppRole(w.sim.watchdog.servicePrincipalId, "Application.ReadWrite.OwnedBy");
    const c = check(await w.doctor(), "app.permission");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain("lacks the Graph application permission Application.ReadWrite.OwnedBy");
    expect(printed).toContain(`/servicePrincipals/${w.sim.watchdog.servicePrincipalId}/appRoleAssignments`);
    expect(printed).toContain(`"resourceId":"${w.sim.tenant.graphServicePrincipal.id}"`);
    expect(printed).toContain('"appRoleId":"18a4783c-866b-4cc7-a460-3d5e5662c884"');
  });

  it("passes with Application.ReadWrite.All, naming the least-privilege alternative", async () => {
    w.sim.tenant.removeOwner(w.sim.nylasApp!.id, w.sim.watchdog.servicePrincipalId);
    w.sim.tenant.revokeAppRole(w.sim.watchdog.servicePrincipalId, "Application.ReadWrite.OwnedBy");
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "Application.ReadWrite.All");
    const c = check(await w.doctor(), "app.permission");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("holds Application.ReadWrite.All");
    expect(c.summary).toContain("least privilege is Application.ReadWrite.OwnedBy plus ownership");
  });
});

describe("app.redirect-uri", () => {
  const callback = () => `${w.sim.urls.nylasApiUri}/v3/connect/callback`;

  it("passes when the Web platform lists the region's callback", async () => {
    const c = check(await w.doctor(), "app.redirect-uri");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain(callback());
  });

  it("fails when the callback is under the SPA platform instead of Web (seed 002)", async () => {
    const app = w.sim.nylasApp!;
    app.web.redirectUris = [];
    app.spa.redirectUris = [callback()];
    const c = check(await w.doctor(), "app.redirect-uri");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain("registered under the Single-page application platform, not Web");
    expect(printed).toContain("Set the Redirect URI platform to Web and enter your redirect URI");
    expect(printed).toContain(`Add a platform → Web → redirect URI ${callback()}`);
  });

  it("fails when the callback is under mobile/desktop", async () => {
    const app = w.sim.nylasApp!;
    app.web.redirectUris = [];
    app.publicClient.redirectUris = [callback()];
    expect(formatCheck(check(await w.doctor(), "app.redirect-uri"))).toContain(
      "Mobile and desktop applications",
    );
  });

  it("fails with AADSTS50011 when the callback is missing", async () => {
    w.sim.nylasApp!.web.redirectUris = ["https://app.example.com/auth/callback"];
    const c = check(await w.doctor(), "app.redirect-uri");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain("AADSTS50011");
    expect(formatCheck(c)).toContain(`redirect URI ${callback()}`);
  });

  it("fails when the app lists the other region's callback", async () => {
    w.sim.tenant.nylas.region = "eu";
    const c = check(await w.doctor({}, { probeRegions: true }), "app.redirect-uri");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain(
      `lists the US callback ${callback()}, but your Nylas application lives in EU`,
    );
    expect(formatCheck(c)).toContain(`${w.sim.urls.nylasEuApiUri}/v3/connect/callback`);
  });
});
