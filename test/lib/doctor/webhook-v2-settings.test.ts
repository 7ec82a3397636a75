import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXCHANGE_APP_ID, EXCHANGE_SCOPES } from "../../../lib/sim/index.js";
import { formatCheck } from "../../../lib/doctor/format-doctor.js";
import { WEBHOOK_URL, check, startDoctorWorld, type DoctorWorld } from "./harness.js";
import { PAGE } from "./cited-pages.js";

let w: DoctorWorld;
beforeEach(async () => {
  w = await startDoctorWorld();
});
afterEach(async () => {
  await w.close();
});

describe("webhook.subscription", () => {
  const hook = () => w.sim.tenant.nylas.webhooks[0]!;

  it("passes for an active subscription with the grant triggers at WEBHOOK_PUBLIC_URL", async () => {
    const c = check(await w.doctor(), "webhook.subscription");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain(WEBHOOK_URL);
  });

  it("fails when no subscription points at WEBHOOK_PUBLIC_URL, naming the stale one", async () => {
    hook().webhook_url = "https://old-deployment.example.com/api/nylas/webhook";
    const c = check(await w.doctor(), "webhook.subscription");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain(`No Nylas webhook points at WEBHOOK_PUBLIC_URL ${WEBHOOK_URL}`);
    expect(printed).toContain("https://old-deployment.example.com/api/nylas/webhook");
    expect(printed).toContain(`PUT ${w.sim.urls.nylasApiUri}/v3/webhooks/${hook().id}`);
  });

  it("fails when a grant trigger is missing", async () => {
    hook().trigger_types = ["grant.created", "grant.updated"];
    const c = check(await w.doctor(), "webhook.subscription");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain("does not subscribe to grant.expired, grant.deleted");
    expect(formatCheck(c)).toContain(
      '"trigger_types":["grant.created","grant.updated","grant.expired","grant.deleted"]',
    );
  });

  it("warns when failing and fails when failed, with how to reactivate", async () => {
    hook().status = "failing";
    let c = check(await w.doctor(), "webhook.subscription");
    expect(c.status).toBe("warn");
    expect(c.summary).toContain("is failing");
    hook().status = "failed";
    c = check(await w.doctor(), "webhook.subscription");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain("never reactivates it by itself");
    expect(formatCheck(c)).toContain(`{"status":"active"}`);
    expect(formatCheck(c)).toContain("watchdog sweep");
  });

  it("names compressed delivery when a compressed destination is failing", async () => {
    hook().status = "failing";
    hook().compressed_delivery = true;
    const c = check(await w.doctor(), "webhook.subscription");
    expect(c.status).toBe("warn");
    expect(formatCheck(c)).toMatch(/compressed_delivery: Nylas gzips each notification/);
    hook().compressed_delivery = false;
    expect(formatCheck(check(await w.doctor(), "webhook.subscription"))).not.toMatch(/compressed_delivery/);
  });

  it("warns when NYLAS_WEBHOOK_SECRET is unset, or WEBHOOK_PUBLIC_URL is", async () => {
    let c = check(await w.doctor({ NYLAS_WEBHOOK_SECRET: "" }), "webhook.subscription");
    expect(c.status).toBe("warn");
    expect(c.summary).toContain("the endpoint refuses every notification");
    c = check(await w.doctor({ WEBHOOK_PUBLIC_URL: "" }), "webhook.subscription");
    expect(c.status).toBe("warn");
    expect(formatCheck(c)).toContain("Set WEBHOOK_PUBLIC_URL");
  });

  it("fails with the create request when there is no subscription at all", async () => {
    w.sim.tenant.nylas.webhooks.length = 0;
    const c = check(await w.doctor(), "webhook.subscription");
    expect(c.status).toBe("fail");
    expect(formatCheck(c)).toContain(`curl -X POST ${w.sim.urls.nylasApiUri}/v3/webhooks`);
    expect(formatCheck(c)).toContain(`"webhook_url":"${WEBHOOK_URL}"`);
  });
});

describe("app.v2-leftovers", () => {
  it("passes for an app made per the v3 guide", async () => {
    expect(check(await w.doctor(), "app.v2-leftovers").status).toBe("pass");
  });

  it("fails when the app still requests EWS.AccessAsUser.All (seeds 002, 004)", async () => {
    w.sim.nylasApp!.requiredResourceAccess.push({
      resourceAppId: EXCHANGE_APP_ID,
      resourceAccess: [{ id: EXCHANGE_SCOPES["EWS.AccessAsUser.All"]!, type: "Scope" }],
    });
    const c = check(await w.doctor(), "app.v2-leftovers");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(c.summary).toContain("looks like a Nylas v2 Azure app: it requests EWS.AccessAsUser.All");
    expect(printed).toContain(
      "One or more of the following permission(s) are currently not supported: EWS.AccessAsUser.All",
    );
    expect(printed).toContain(
      "you must create a new Azure auth app. Your v2 Azure app is not compatible with v3",
    );
    expect(printed).toContain("New registration");
    expect(printed).toContain("they must re-authenticate their accounts and approve the app");
    expect(c.source).toContain(PAGE.createAzureApp);
    expect(c.source).toContain(PAGE.v2MicrosoftAuth);
  });

  it("fails when the only redirect URI is the Nylas v2 callback", async () => {
    w.sim.nylasApp!.web.redirectUris = ["https://api.nylas.com/oauth/callback"];
    const c = check(await w.doctor(), "app.v2-leftovers");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain("has only the Nylas v2 redirect URI https://api.nylas.com/oauth/callback");
  });

  it("passes, noting it, when a v2 redirect URI remains beside the v3 callback", async () => {
    w.sim.nylasApp!.web.redirectUris.push("https://api.nylas.com/oauth/callback");
    const c = check(await w.doctor(), "app.v2-leftovers");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("harmless");
  });
});

describe("settings.sanity", () => {
  it("says the re-authentication callback must exchange the code at /v3/connect/token", async () => {
    const c = check(
      await w.doctor({
        NYLAS_CLIENT_ID: w.sim.tenant.nylas.applicationId,
        REAUTH_REDIRECT_URI: "https://app.example.com/cb",
      }),
      "settings.sanity",
    );
    expect(c.summary).toMatch(
      /https:\/\/app\.example\.com\/cb, which must be your application's callback that exchanges the code at POST \/v3\/connect\/token/,
    );
    expect(c.summary).toContain("https://developer.nylas.com/docs/v3/auth/hosted-oauth-apikey/");
  });

  it("passes with a sink, ordered thresholds and a 6-hourly schedule", async () => {
    const c = check(await w.doctor(), "settings.sanity");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("alerts go to Slack");
    expect(c.summary).toContain("WATCHDOG_SCHEDULE every 6 hours");
  });

  it("warns without any alert sink", async () => {
    const c = check(await w.doctor({ SLACK_WEBHOOK_URL: "" }), "settings.sanity");
    expect(c.status).toBe("warn");
    expect(formatCheck(c)).toContain(
      "Set at least one of SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY or ALERT_WEBHOOK_URL",
    );
  });

  it("warns when the watchdog runs too rarely for the rotation window", async () => {
    const c = check(
      await w.doctor({ WATCHDOG_SCHEDULE: "0 0 0 1 * *", ROTATE_BEFORE_DAYS: "30", ALERT_BEFORE_DAYS: "14" }),
      "settings.sanity",
    );
    expect(c.status).toBe("warn");
    expect(c.summary).toContain("leaving few tries in the 16 days between rotation and paging");
  });
});
