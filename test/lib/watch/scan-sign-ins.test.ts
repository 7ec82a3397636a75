import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { scanCredentials } from "../../../lib/watch/scan.js";
import { ScanJsonWriter, formatScanTable } from "../../../lib/watch/format-scan.js";
import { HOUR_MS } from "../../../lib/clock.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const thresholds = { alertBeforeDays: 14, rotateBeforeDays: 60 };

describe("scan: each connector secret's last sign-in", () => {
  // fidelity: E1, E3, E8, N10
  it("shows Entra's last sign-in per secret, in the table and in --json, when the report is readable", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 90 } });
    const w = world;
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    w.clock.advance(HOUR_MS);
    await w.sim.nylas.tick(); // Nylas refreshes the three grants with the connector's secret
    const keyId = w.sim.tenant.connectorSecret()!.password!.keyId;
    const unused = w.sim.tenant.addSecret(w.sim.nylasApp!.id, {
      endDateTime: new Date(w.clock.now().getTime() + 300 * 24 * HOUR_MS),
    });
    const summary = await scanCredentials(w.deps(), { watchAppIds: [], thresholds });
    expect(summary.signIns.readable).toBe(true);
    const table = formatScanTable(summary, thresholds);
    expect(table).toMatch(/LAST SIGN-IN/);
    const line = table.split("\n").find((l) => l.includes(keyId.slice(0, 8)))!;
    expect(line).toContain(w.clock.now().toISOString().replace("T", " ").slice(0, 16));
    expect(table.split("\n").find((l) => l.includes(unused.keyId.slice(0, 8)))).toMatch(/none reported/);

    let out = "";
    const json = new ScanJsonWriter((t) => (out += t), w.clock.now(), thresholds);
    await scanCredentials(w.deps(), { watchAppIds: [], thresholds, onCredential: (r) => json.credential(r) });
    json.finish(summary, 0);
    const doc = JSON.parse(out) as { credentials: { keyId: string; lastSignIn?: string | null }[] };
    expect(doc.credentials.find((c) => c.keyId === keyId)?.lastSignIn).toBe(w.clock.now().toISOString());
    expect(doc.credentials.find((c) => c.keyId === unused.keyId)?.lastSignIn).toBeNull();
  });

  // fidelity: E3
  it("says how to see them when the report is not readable", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 90 } });
    const summary = await scanCredentials(world.deps(), { watchAppIds: [], thresholds });
    expect(summary.signIns.readable).toBe(false);
    expect(formatScanTable(summary, thresholds)).toMatch(/AuditLog\.Read\.All/);
  });
});
