import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startDoctorWorld, check, type DoctorWorld } from "./harness.js";
import { formatCheck } from "../../../lib/doctor/format-doctor.js";
import { saveKeyRecord, type KeyRecord } from "../../../lib/rotation/records.js";
import { DAY_MS } from "../../../lib/clock.js";

let w: DoctorWorld;
beforeEach(async () => {
  w = await startDoctorWorld();
});
afterEach(async () => {
  await w.close();
});

const app = () => w.sim.tenant.appByAppId(w.sim.nylasApp!.appId)!;

describe("rotation.safety", () => {
  it("passes in evidence mode and shows each secret's last sign-in", async () => {
    const c = check(await w.doctor(), "rotation.safety");
    expect(c.status).toBe("pass");
    expect(c.summary).toMatch(/Evidence mode/);
    const keyId = app().passwordCredentials[0]!.keyId;
    expect(c.summary).toContain(`${keyId.slice(0, 8)} ${w.clock.now().toISOString()}`);
  });

  it("without a readable report says the conservative mode is in effect and how to enable evidence", async () => {
    w.sim.tenant.signInReport.mode = "unlicensed";
    const c = check(await w.doctor(), "rotation.safety");
    expect(c.status).toBe("pass");
    expect(c.summary).toMatch(/Conservative mode/);
    expect(c.summary).toMatch(/AuditLog\.Read\.All/);
  });

  it("warns when the report shows no use while grants exist (blind)", async () => {
    w.clock.advance(3 * DAY_MS); // no refresh recorded for three days
    const c = check(await w.doctor(), "rotation.safety");
    expect(c.status).toBe("warn");
    expect(formatCheck(c)).toMatch(/proves nothing/);
  });

  it("fails when another installation manages the connector, naming it and the two ways out", async () => {
    w.sim.tenant.addSecret(app().id, {
      displayName:
        "secret-watchdog i-0badcafe r-20261101T000000Z-abcdef (do not edit; rotated automatically)",
      endDateTime: new Date(w.clock.now().getTime() + 170 * DAY_MS),
    });
    const c = check(await w.doctor(), "rotation.safety");
    expect(c.status).toBe("fail");
    expect(c.summary).toMatch(/installation i-0badcafe \(last rotated 2026-11-01T00:00:00Z\)/);
    expect(formatCheck(c)).toMatch(/--adopt/);
  });

  it("fails with the exact keys in doubt after an unconfirmed connector update, and what to check", async () => {
    const store = await w.deps().store();
    const n = w.sim.tenant.addSecret(app().id, {
      displayName:
        "secret-watchdog i-0000abcd r-20261123T110000Z-123456 (do not edit; rotated automatically)",
      endDateTime: new Date(w.clock.now().getTime() + 180 * DAY_MS),
    });
    const base = {
      v: 1 as const,
      appId: app().appId,
      appObjectId: app().id,
      rotationId: "r-20261123T110000Z-123456",
      createdAt: w.clock.now().toISOString(),
    };
    await store.put("rotation", "installation", {
      v: 1,
      id: "i-0000abcd",
      createdAt: base.createdAt,
      adoptions: [],
    });
    const foreign: KeyRecord = {
      ...base,
      keyId: "foreign",
      endDateTime: null,
      state: "installed",
      windowStart: null,
      installedAt: base.createdAt,
    };
    const sent: KeyRecord = {
      ...base,
      keyId: n.keyId,
      endDateTime: null,
      state: "sent",
      windowStart: base.createdAt,
      provenAt: base.createdAt,
      ambiguous: true,
    };
    await saveKeyRecord(store, foreign);
    await saveKeyRecord(store, sent);
    const c = check(await w.doctor(), "rotation.safety");
    expect(c.status).toBe("fail");
    expect(c.summary).toContain(n.keyId);
    expect(c.summary).toMatch(/could not be confirmed/);
    expect(formatCheck(c)).toMatch(/Application credential activity/);
    expect(formatCheck(c)).not.toMatch(/nothing uses/);
  });
});
