import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatCheck } from "../../../lib/doctor/format-doctor.js";
import { check, startDoctorWorld, type DoctorWorld } from "./harness.js";
import { PAGE } from "./cited-pages.js";

let w: DoctorWorld;
beforeEach(async () => {
  w = await startDoctorWorld();
});
afterEach(async () => {
  await w.close();
});

describe("nylas.region", () => {
  it("passes when the key works against NYLAS_API_URI", async () => {
    const report = await w.doctor();
    expect(check(report, "nylas.region").status).toBe("pass");
    expect(report.exitCode).toBe(0);
  });

  it("on 401 does not send the key to another region unless asked, and says how to ask", async () => {
    w.sim.tenant.nylas.region = "eu";
    const report = await w.doctor();
    const c = check(report, "nylas.region");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain("--probe-regions");
    expect(w.sim.requests.filter((r) => r.service === "nylas-eu")).toEqual([]);
  });

  it("with --probe-regions, on 401 finds the application in the other region and says which URI to set (seed 003)", async () => {
    w.sim.tenant.nylas.region = "eu";
    const report = await w.doctor({}, { probeRegions: true });
    const c = check(report, "nylas.region");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain(`your application lives in EU: set NYLAS_API_URI=${w.sim.urls.nylasEuApiUri}`);
    expect(printed).toContain("Using the wrong regional endpoint always returns a 401");
    expect(c.source).toContain(PAGE.authTroubleshooting);
    // The rest of the report still ran, against the region that works.
    expect(check(report, "connector.present").status).toBe("pass");
    expect(check(report, "grants.scopes").status).toBe("pass");
    expect(report.exitCode).toBe(1);
  });

  it("fails when every region refuses the key, and the Nylas checks skip", async () => {
    const report = await w.doctor({ NYLAS_API_KEY: "nyk_v0_not_a_real_key_0000000000" });
    const c = check(report, "nylas.region");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain("Verify the key in the Nylas Dashboard under API Keys");
    expect(check(report, "connector.present").status).toBe("skip");
    expect(check(report, "app.found").status).toBe("skip");
    expect(check(report, "webhook.subscription").summary).toContain("see nylas.region");
    expect(report.exitCode).toBe(1);
  });
});

describe("connector.present", () => {
  it("passes with a client_id and a tenant", async () => {
    const c = check(await w.doctor(), "connector.present");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain(`client_id ${w.sim.nylasApp!.appId}, tenant common`);
  });

  it("fails without a Microsoft connector; app checks skip with the reason", async () => {
    w.sim.tenant.nylas.connector = undefined;
    const report = await w.doctor();
    const c = check(report, "connector.present");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain(`${w.sim.urls.nylasApiUri}/v3/connectors`);
    expect(formatCheck(c)).toContain('"tenant":"common"');
    expect(c.source).toContain(PAGE.createAzureApp);
    for (const id of ["app.found", "secrets.live", "consent.admin", "grants.scopes"] as const) {
      expect(check(report, id).status).toBe("skip");
      expect(check(report, id).summary).toContain("no Microsoft connector (see connector.present)");
    }
  });

  it("fails without client_id, warns without tenant", async () => {
    const connector = w.sim.tenant.nylas.connector!;
    const clientId = connector.settings.client_id!;
    delete connector.settings.client_id;
    let c = check(await w.doctor(), "connector.present");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain("Application (client) ID");
    expect(formatCheck(c)).toContain("always send client_id, client_secret and tenant together");

    connector.settings.client_id = clientId;
    delete connector.settings.tenant;
    c = check(await w.doctor(), "connector.present");
    expect(c.status).toBe("warn");
    expect(formatCheck(c)).toContain(
      'Use tenant: "common" to allow authentication for accounts that are outside of your organization',
    );
  });
});

describe("connector.audience", () => {
  it("fails for tenant common with a single-tenant app (seed 002)", async () => {
    w.sim.nylasApp!.signInAudience = "AzureADMyOrg";
    const c = check(await w.doctor(), "connector.audience");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain("Accounts in any organizational directory and personal Microsoft accounts");
    expect(printed).toContain(`set the connector's tenant to your tenant ID ${w.sim.tenant.tenantId}`);
    expect(c.source).toContain(PAGE.createAzureApp);
  });

  it("passes for common with a multi-organisation app, explaining that personal accounts cannot sign in", async () => {
    w.sim.nylasApp!.signInAudience = "AzureADMultipleOrgs";
    const c = check(await w.doctor(), "connector.audience");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("personal Microsoft accounts (outlook.com) cannot");
  });

  it("passes for the home tenant with a single-tenant app", async () => {
    w.sim.nylasApp!.signInAudience = "AzureADMyOrg";
    w.sim.tenant.nylas.connector!.settings.tenant = w.sim.tenant.tenantId;
    const c = check(await w.doctor(), "connector.audience");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("the app's home tenant");
  });
});
