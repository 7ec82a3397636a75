/**
 * Entra's per-credential sign-in evidence decides migration and retirement,
 * under both ways Nylas may treat grants after a connector update (simulator
 * switch `secretBinding`): "bound" (a grant keeps the secret it signed in
 * with: Nylas' renewal article) and "moved" (an update moves every grant).
 * Asserted on the simulator's request log and final state.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import {
  acceptedRemoves,
  connectorApp,
  invalidGrantsAfterRefresh,
  keyIdsOnApp,
  reauthRequests,
} from "../../helpers/tenant-view.js";
import { FileStateStore } from "../../../lib/state/file-store.js";
import { loadKeyRecords } from "../../../lib/rotation/records.js";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";
import type { WatchdogPassResult } from "../../../lib/watchdog-pass.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const app = connectorApp;
const keyIds = keyIdsOnApp;
const reauthEvents = reauthRequests;
const removes = acceptedRemoves;
const invalidGrants = invalidGrantsAfterRefresh;

/** Hours pass: Nylas refreshes every valid grant hourly (sign-ins Entra records), the timer runs every 6 h. */
async function live(
  w: World,
  hours: number,
  passes: WatchdogPassResult[] = [],
): Promise<WatchdogPassResult[]> {
  for (let h = 1; h <= hours; h++) {
    w.clock.advance(HOUR_MS);
    await w.sim.nylas.tick();
    if (h % 6 === 0) passes.push(await w.pass());
  }
  return passes;
}

/**
 * W1 installed by a first rotation, two users signed in on it, a day of refreshes, then a forced
 * rotation to W2 at `switchAt`: W1 is the superseded secret whose fate the evidence decides.
 */
async function twoRotations(options: { binding: "bound" | "moved"; evidence: boolean }) {
  world = await startWorld({ seed: { connectorSecretDaysLeft: 30, grantEmails: [] } });
  const w = world;
  app(w).signInAudience = "AzureADMultipleOrgs";
  w.sim.tenant.nylas.secretBinding = options.binding;
  if (options.evidence) w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
  await w.pass();
  const w1 = w.sim.tenant.connectorSecret()!.password!.keyId;
  // Past SWITCH_MARGIN_MINUTES: these sign-ins count as on W1, not on the secret before it.
  await live(w, 2);
  await w.sim.nylas.signIn("adele.vance@contoso.com");
  await w.sim.nylas.signIn("megan.bowen@contoso.com");
  await live(w, 24);
  const rotated = await w.pass({ forceRotate: true });
  expect(rotated.rotation.decision).toBe("rotated");
  const w2 = w.sim.tenant.connectorSecret()!.password!.keyId;
  return { w, w1, w2, rotated, switchAt: w.clock.now().getTime() };
}

// fidelity: N8, N10, E3, E8
describe("evidence: grants keep their secret (bound)", () => {
  it("asks nobody before REAUTH_DEFER_HOURS, then asks the users still on the old secret; retirement waits for quiet", async () => {
    const { w, w1, rotated, switchAt } = await twoRotations({ binding: "bound", evidence: true });
    expect(rotated.migration.evidence?.mode).toBe("evidence");
    expect(rotated.migration.plans?.find((p) => p.keyId === w1)?.verdict).toBe("waiting");
    expect(reauthEvents(w)).toHaveLength(0);
    // The migration incident says nobody was asked yet, and when the evidence decides.
    const migration = (w.sim.sinks.json("webhook") as { incident?: { kind: string; summary: string } }[])
      .map((e) => e.incident)
      .find((i) => i?.kind === "secret.migration");
    expect(migration?.summary).toMatch(/nobody has been asked yet; Entra's sign-in report decides at/);

    // Up to the defer time: W1 keeps signing in (Nylas refreshes the two grants with it), nobody is asked.
    await live(w, 66);
    expect(reauthEvents(w)).toHaveLength(0);
    expect(keyIds(w)).toContain(w1);
    await live(w, 7); // past switch + 72 h
    expect(w.clock.now().getTime() - switchAt).toBeGreaterThanOrEqual(72 * HOUR_MS);
    expect(
      reauthEvents(w)
        .map((e) => e.grant!.email)
        .sort(),
    ).toEqual(["adele.vance@contoso.com", "megan.bowen@contoso.com"]);
    expect(keyIds(w)).toContain(w1);

    // They sign in again (onto W2): W1 goes quiet, and is removed only after RETIRE_QUIET_HOURS of quiet.
    await w.sim.nylas.signIn("adele.vance@contoso.com");
    await w.sim.nylas.signIn("megan.bowen@contoso.com");
    const quietFrom = w.clock.now().getTime();
    await live(w, 66);
    expect(keyIds(w)).toContain(w1);
    expect(removes(w)).toHaveLength(0);
    await live(w, 12);
    expect(keyIds(w)).not.toContain(w1);
    const removedAt = removes(w)[0]!.at.getTime();
    expect(removedAt - quietFrom).toBeGreaterThanOrEqual(72 * HOUR_MS);
    expect(await invalidGrants(w)).toEqual([]);
  }, 60_000);
});

// fidelity: N9, N10, E3, E8
describe("evidence: a connector update moves every grant (moved)", () => {
  it("asks nobody, resolves the migration saying Nylas moved them, and retires the old secret after the quiet window", async () => {
    const { w, w1, switchAt } = await twoRotations({ binding: "moved", evidence: true });
    const passes = await live(w, 80);
    expect(reauthEvents(w)).toHaveLength(0);
    expect(passes.some((p) => p.migration.plans?.some((k) => k.keyId === w1 && k.verdict === "moved"))).toBe(
      true,
    );
    const resolved = (
      w.sim.sinks.json("webhook") as { event: string; incident?: { key: string; note?: string } }[]
    )
      .filter((e) => e.event === "incident.resolved")
      .map((e) => JSON.stringify(e));
    expect(resolved.join("\n")).toMatch(/Nylas moved them to the new secret/);
    expect(keyIds(w)).not.toContain(w1);
    expect(removes(w)[0]!.at.getTime() - switchAt).toBeGreaterThanOrEqual(72 * HOUR_MS);
    expect(await invalidGrants(w)).toEqual([]);
  }, 60_000);
});

// fidelity: E3
describe("evidence: not readable (no AuditLog.Read.All)", () => {
  it("falls back to the timestamp rules with a 60-minute switch margin: asks at once, retires on two clean reads", async () => {
    const { w, w1, rotated } = await twoRotations({ binding: "bound", evidence: false });
    expect(rotated.migration.evidence?.mode).toBe("unavailable");
    expect(rotated.migration.evidence?.reason).toMatch(/AuditLog\.Read\.All/);
    expect(reauthEvents(w)).toHaveLength(2);
    // A sign-in 30 minutes after the switch may still have used the old secret (SWITCH_MARGIN_MINUTES 60).
    w.clock.advance(30 * 60_000);
    await w.sim.nylas.signIn("alex.wilber@contoso.com");
    const next = await w.pass();
    expect(next.migration.byKey.find((k) => k.keyId === w1)?.count).toBe(3);
    expect(keyIds(w)).toContain(w1);
  });

  // fidelity: E5
  it("a report that shows no use while grants exist is blind: fallback, and it says so", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    w.sim.tenant.signInReport.delayMs = 7 * DAY_MS;
    await live(w, 3);
    const from = w.sim.requests.length;
    const result = await w.pass();
    // The report is read once per pass (beside the scan's app read), and the pass decides on that read.
    expect(
      w.sim.requests.slice(from).filter((r) => r.path.endsWith("/reports/appCredentialSignInActivities")),
    ).toHaveLength(1);
    expect(result.rotation.decision).toBe("rotated");
    expect(result.migration.evidence?.mode).toBe("blind");
    expect(result.migration.evidence?.reason).toMatch(/proves nothing/);
    expect(reauthEvents(w)).toHaveLength(3);
  });
});

// fidelity: E3, E8, E12
describe("evidence settles an unconfirmed connector update", () => {
  it("a PATCH that answered 502 after applying, on a two-secret app: the new key's sign-ins show Nylas holds it", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    expect(app(w).signInAudience).toBe("AzureADandPersonalMicrosoftAccount");
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    await live(w, 2);
    w.sim.faults.add({
      service: "nylas",
      method: "PATCH",
      path: "/v3/connectors/microsoft",
      when: "after",
      times: Infinity,
      response: { status: 502 },
    });
    const first = await w.pass();
    expect(first.rotation.decision).toBe("failed");
    expect(first.rotation.outcome?.status === "failed" && first.rotation.outcome.ambiguous).toBe(true);
    w.sim.faults.clear();
    const n = w.sim.tenant.connectorSecret()!.password!.keyId;

    // A user signs in after the update (Nylas exchanges the code with the connector's secret: N).
    w.clock.advance(HOUR_MS);
    await w.sim.nylas.signIn("new.user@contoso.com");
    await live(w, 2);
    const next = await w.pass();
    expect(next.plan.join("\n")).toMatch(new RegExp(`settle the unconfirmed connector update: .*${n}`));
    expect(next.rotation.decision).toBe("not-due");
    const records = (await loadKeyRecords(new FileStateStore(w.stateDir), w.sim.nylasApp!.appId)).map(
      (i) => i.value,
    );
    expect(records.find((r) => r.keyId === n)?.state).toBe("installed");
    expect(records.find((r) => r.keyId === "foreign")?.state).toBe("superseded");
    expect(app(w).passwordCredentials).toHaveLength(2);
    expect(await invalidGrants(w)).toEqual([]);
  });
});
