import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DAY_MS } from "../../../lib/clock.js";
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

const connectorKeyId = () => w.sim.tenant.connectorSecret()!.password!.keyId;

describe("secrets.live", () => {
  it("passes before any rotation, saying the in-connector secret is not recorded yet", async () => {
    const c = check(await w.doctor(), "secrets.live");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain("in-connector secret not recorded yet (no rotation has run)");
  });

  it("passes with a recorded, healthy in-connector secret", async () => {
    await w.recordConnectorSecret(connectorKeyId());
    const c = check(await w.doctor(), "secrets.live");
    expect(c.status).toBe("pass");
    expect(c.summary).toContain(`the connector's secret ${connectorKeyId()} expires in 180 days`);
  });

  it("fails when every secret has expired (seed 001)", async () => {
    w.clock.advance(181 * DAY_MS);
    const c = check(await w.doctor(), "secrets.live");
    expect(c.status).toBe("fail");
    const printed = formatCheck(c);
    expect(printed).toContain("Every client secret");
    expect(printed).toContain("AADSTS7000222");
    expect(printed).toContain("When the old client secret expires, all accounts go invalid");
    expect(printed).toContain("Certificates & secrets → New client secret");
    expect(printed).toContain("watchdog run --force-rotate");
    expect(c.source).toContain(PAGE.renewSecret);
  });

  it("fails when the recorded in-connector secret was deleted from the app (7000215)", async () => {
    const keyId = connectorKeyId();
    await w.recordConnectorSecret(keyId);
    w.sim.tenant.addSecret(w.sim.nylasApp!.id, {
      endDateTime: new Date(w.clock.now().getTime() + 300 * DAY_MS),
    });
    w.sim.tenant.removePassword(w.sim.nylasApp!, keyId);
    const c = check(await w.doctor(), "secrets.live");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain(`The secret the connector holds (keyId ${keyId}`);
    expect(c.summary).toContain("someone deleted it, so new sign-ins fail with AADSTS7000215");
    expect(formatCheck(c)).toContain("Make a note of the value of the client secret");
  });

  it("warns when the in-connector secret expires within ALERT_BEFORE_DAYS", async () => {
    await w.recordConnectorSecret(connectorKeyId());
    w.clock.advance(175 * DAY_MS);
    const c = check(await w.doctor(), "secrets.live");
    expect(c.status).toBe("warn");
    expect(c.summary).toContain("expires in 5 days");
    expect(formatCheck(c)).toContain("watchdog run");
  });

  it("fails when the in-connector secret expired even though a newer one exists", async () => {
    await w.recordConnectorSecret(connectorKeyId());
    w.sim.tenant.addSecret(w.sim.nylasApp!.id, {
      endDateTime: new Date(w.clock.now().getTime() + 400 * DAY_MS),
    });
    w.clock.advance(181 * DAY_MS);
    const c = check(await w.doctor(), "secrets.live");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain("The client secret for your Azure application has expired");
  });

  it("warns when an expired secret takes one of the 2 slots of an app that allows personal accounts", async () => {
    const app = w.sim.nylasApp!;
    w.sim.tenant.addSecret(app.id, {
      endDateTime: new Date(w.clock.now().getTime() - DAY_MS),
      startDateTime: new Date(w.clock.now().getTime() - 400 * DAY_MS),
    });
    const c = check(await w.doctor(), "secrets.live");
    expect(c.status).toBe("warn");
    expect(c.summary).toContain("TooManyAppPasswords");
    expect(formatCheck(c)).toContain("You can have two client secrets active within Azure at any time");
  });
});
