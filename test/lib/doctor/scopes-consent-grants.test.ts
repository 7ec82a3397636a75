import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GRAPH_APP_ID, GRAPH_SCOPES } from "../../../lib/sim/index.js";
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

/** Adds a delegated Graph permission to the app registration's requested permissions. */
function requestInApp(scope: string) {
  const graph = w.sim.nylasApp!.requiredResourceAccess.find((r) => r.resourceAppId === GRAPH_APP_ID)!;
  graph.resourceAccess.push({ id: GRAPH_SCOPES[scope]!, type: "Scope" });
}

describe("scopes.required", () => {
  it("passes with offline_access, openid, profile, User.Read, all requested by the app", async () => {
    const c = check(await w.doctor(), "scopes.required");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("all requested by the app");
  });

  it("fails without offline_access: no refresh token, 45001 (seed 000)", async () => {
    const connector = w.sim.tenant.nylas.connector!;
    connector.scope = connector.scope.filter((s) => s !== "offline_access");
    const c = check(await w.doctor(), "scopes.required");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain("45001");
    expect(printed).toContain(
      "offline_access scope is included in your OAuth request, as it is required by Microsoft to issue the refresh token",
    );
    expect(printed).toContain(`PATCH ${w.sim.urls.nylasApiUri}/v3/connectors/microsoft`);
    expect(printed).toContain('"offline_access"');
  });

  it("fails when openid/profile/User.Read are missing (seed 002)", async () => {
    const connector = w.sim.tenant.nylas.connector!;
    connector.scope = connector.scope.filter((s) => s !== "profile" && s !== "User.Read");
    const c = check(await w.doctor(), "scopes.required");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain("lacks profile, User.Read");
    expect(c.source).toContain(PAGE.createAzureApp);
  });

  it("fails for Mail.Send without Mail.ReadWrite: 403 on send (seed 003)", async () => {
    const connector = w.sim.tenant.nylas.connector!;
    connector.scope = connector.scope.filter((s) => s !== "Mail.ReadWrite");
    const c = check(await w.doctor(), "scopes.required");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain("Microsoft requires Mail.ReadWrite on top of Mail.Send");
    expect(c.source).toContain(PAGE.authTroubleshooting);
  });

  it("warns (a consent question: v2 allows dynamic consent) when the connector asks for a scope the app does not list (seed 000)", async () => {
    w.sim.tenant.nylas.connector!.scope.push("OnlineMeetings.ReadWrite");
    const c = check(await w.doctor(), "scopes.required");
    expect(c.status).toBe("warn");
    const printed = formatCheck(c);
    expect(c.summary).toContain(
      'asks for OnlineMeetings.ReadWrite, which "Nylas Microsoft connector" does not list',
    );
    expect(c.summary).toContain("dynamic consent");
    expect(printed).toContain("Delegated permissions: add OnlineMeetings.ReadWrite");
    expect(printed).toContain(
      "Ensure all required scopes (including OnlineMeetings.ReadWrite) are present in Azure",
    );
  });
});

describe("consent.admin", () => {
  it("passes when tenant-wide consent covers every connector scope", async () => {
    expect(check(await w.doctor(), "consent.admin").status).toBe("pass");
  });

  it("seed 000: a new scope (OnlineMeetings.ReadWrite) requested but without admin consent → 45001", async () => {
    w.sim.tenant.nylas.connector!.scope.push("OnlineMeetings.ReadWrite");
    requestInApp("OnlineMeetings.ReadWrite");
    const report = await w.doctor();
    expect(check(report, "scopes.required").status).toBe("pass");
    const c = check(report, "consent.admin");
    expect(c.status).toBe("fail");
    expect(c.details?.missing).toEqual(["OnlineMeetings.ReadWrite"]);
    const printed = formatCheck(c);
    expect(printed).toContain("No tenant-wide admin consent for OnlineMeetings.ReadWrite");
    expect(printed).toContain("45001");
    expect(printed).toContain(
      "The Microsoft Admin must explicitly grant tenant-wide Admin Consent in Azure for the new OnlineMeetings.ReadWrite scope",
    );
    expect(printed).toContain("Grant admin consent for");
    expect(printed).toContain("restart the OAuth process");
    expect(c.source).toContain(PAGE.forum45001);

    // The admin grants consent: it passes.
    const sp = w.sim.tenant.spByAppId(w.sim.nylasApp!.appId)!;
    w.sim.tenant.grantDelegated(sp.id, GRAPH_APP_ID, ["OnlineMeetings.ReadWrite"]);
    expect(check(await w.doctor(), "consent.admin").status).toBe("pass");
  });

  it("ignores per-user consent: only AllPrincipals grants count", async () => {
    w.sim.tenant.nylas.connector!.scope.push("Contacts.Read");
    requestInApp("Contacts.Read");
    const sp = w.sim.tenant.spByAppId(w.sim.nylasApp!.appId)!;
    w.sim.tenant.grantDelegated(sp.id, GRAPH_APP_ID, ["Contacts.Read"], {
      consentType: "Principal",
      principalId: "00000000-0000-0000-0000-0000000000aa",
    });
    const c = check(await w.doctor(), "consent.admin");
    expect(c.status).toBe("fail");
    expect(c.details?.missing).toEqual(["Contacts.Read"]);
  });

  it("fails when the app has no service principal in its tenant (65001)", async () => {
    const sp = w.sim.tenant.spByAppId(w.sim.nylasApp!.appId)!;
    w.sim.tenant.servicePrincipals.delete(sp.id);
    w.sim.tenant.touch();
    const c = check(await w.doctor(), "consent.admin");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain("AADSTS65001");
    expect(formatCheck(c)).toContain("Granting consent creates the enterprise application");
  });

  it("skips, saying how to check by hand, when the watchdog may not read consent grants", async () => {
    w.sim.tenant.revokeAppRole(w.sim.watchdog.servicePrincipalId, "Directory.Read.All");
    const report = await w.doctor();
    const c = check(report, "consent.admin");
    expect(c.status).toBe("skip");
    expect(c.summary).toContain("needs Directory.Read.All");
    expect(c.summary).toContain("Enterprise applications");
    // A skip is not a warning: least privilege still exits 0.
    expect(report.exitCode).toBe(0);
  });
});

describe("grants.scopes", () => {
  it("passes when every valid grant carries the connector's scopes", async () => {
    const c = check(await w.doctor(), "grants.scopes");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("All 3 valid Microsoft grants");
  });

  it("seed 003: scopes added to the connector are not in existing grants — counts them and offers watchdog grants", async () => {
    w.sim.tenant.nylas.connector!.scope.push("Contacts.Read");
    w.sim.tenant.nylas.addGrant({ email: "new.user@contoso.com" }); // signed in after the change
    w.sim.tenant.nylas.addGrant({ email: "gone@contoso.com", grant_status: "invalid", scope: ["Mail.Read"] });
    const c = check(await w.doctor(), "grants.scopes");
    expect(c.status).toBe("warn");
    expect(c.summary).toContain(
      "3 of 4 valid Microsoft grants lack scope the connector now asks for (Contacts.Read)",
    );
    expect(c.summary).toContain("1 invalid grant");
    expect(c.details?.behind).toBe(3);
    const printed = formatCheck(c);
    expect(printed).toContain(
      "Adding new scopes to a connector doesn't automatically update existing grants",
    );
    expect(printed).toContain("watchdog grants");
    expect(c.source).toContain(PAGE.authTroubleshooting);
  });
});
