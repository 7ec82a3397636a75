import { afterEach, describe, expect, it } from "vitest";
import { startWorld, PAGERDUTY_KEY, ALERT_SECRET, type World } from "../../helpers/world.js";
import { rotationIdOf } from "../../../lib/rotation/marker.js";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const app = (w: World) => w.sim.tenant.appByAppId(w.sim.nylasApp!.appId)!;
const reauthEvents = (w: World) =>
  (
    w.sim.sinks.json("webhook") as {
      event: string;
      grant?: { grant_id: string; email: string; deadline: string; reauth_url?: string };
    }[]
  ).filter((e) => e.event === "grant.reauth_requested");
const pagerDuty = (w: World) =>
  w.sim.sinks.json("pagerduty") as {
    event_action: string;
    dedup_key: string;
    payload?: { severity: string; summary: string };
  }[];

describe("migration: users on the superseded secret", () => {
  it("requests one re-authentication per grant per rotation, escalates at ALERT_BEFORE_DAYS, resolves when all moved", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const foreignKey = app(w).passwordCredentials[0]!.keyId;
    const emails = w.sim.tenant.nylas.grants.map((g) => g.email);
    expect(emails).toHaveLength(3);

    const first = await w.pass();
    expect(first.rotation.decision).toBe("rotated");
    expect(first.migration.dependents).toBe(3);
    const events = reauthEvents(w);
    expect(events).toHaveLength(3);
    expect(events.map((e) => e.grant!.email).sort()).toEqual([...emails].sort());
    for (const e of events) {
      expect(e.grant!.reauth_url).toContain("/v3/connect/auth?");
      expect(new URL(e.grant!.reauth_url!).searchParams.get("login_hint")).toBe(e.grant!.email);
      expect(e.grant!.deadline).toBe(
        app(w).passwordCredentials.find((p) => p.keyId === foreignKey)!.endDateTime,
      );
    }
    // Warning while the old secret has more than ALERT_BEFORE_DAYS left: a routine rotation pages nobody
    // (PAGERDUTY_MIN_SEVERITY critical).
    const migrationKey = `secret.migration:${w.sim.nylasApp!.appId}`;
    expect(pagerDuty(w).filter((e) => e.dedup_key === migrationKey)).toEqual([]);

    // The same pass again asks nobody twice.
    const second = await w.pass();
    expect(second.migration.dependents).toBe(3);
    expect(second.migration.reauthRequested).toBe(0);
    expect(reauthEvents(w)).toHaveLength(3);

    // One user signs in again (through the hosted-auth link): off the list.
    w.clock.advance(2 * HOUR_MS);
    await w.sim.nylas.signIn(emails[0]!);
    const third = await w.pass();
    expect(third.migration.dependents).toBe(2);

    // 17 days later the old secret has 13 days left: critical (PagerDuty re-triggers with the same key).
    w.clock.advance(17 * DAY_MS);
    const fourth = await w.pass();
    expect(fourth.exitCode).toBe(1);
    const triggers = pagerDuty(w).filter((e) => e.dedup_key === migrationKey && e.event_action === "trigger");
    expect(triggers.map((e) => e.payload?.severity)).toEqual(["critical"]);

    // Everyone moves: resolved, and the foreign secret is left alone.
    for (const email of emails.slice(1)) await w.sim.nylas.signIn(email);
    w.clock.advance(HOUR_MS);
    const fifth = await w.pass();
    expect(fifth.migration.dependents).toBe(0);
    expect(
      pagerDuty(w)
        .filter((e) => e.dedup_key === migrationKey)
        .at(-1)?.event_action,
    ).toBe("resolve");
    expect(app(w).passwordCredentials.map((p) => p.keyId)).toContain(foreignKey);
    expect(fifth.exitCode).toBe(0);
  });

  it("retires a superseded watchdog secret only when nothing depends on it and the grace period has passed", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30, grantEmails: [] } });
    const w = world;
    app(w).signInAudience = "AzureADMultipleOrgs";
    await w.pass();
    const w1 = w.sim.tenant.connectorSecret()!.password!.keyId;
    w.clock.advance(HOUR_MS);
    await w.sim.nylas.signIn("megan@contoso.com"); // authenticated under W1

    w.clock.advance(DAY_MS);
    const rotated = await w.pass({ forceRotate: true });
    expect(rotated.rotation.decision).toBe("rotated");
    expect(rotated.migration.dependents).toBe(1);
    expect(reauthEvents(w).map((e) => e.grant!.email)).toEqual(["megan@contoso.com"]);

    // Still depended on, long after the grace period: kept.
    w.clock.advance(3 * DAY_MS);
    expect((await w.pass()).retired).toEqual([]);
    expect(app(w).passwordCredentials.map((p) => p.keyId)).toContain(w1);

    // She signs in again: nothing depends on W1. One read proves nothing: the next pass confirms, then removes.
    await w.sim.nylas.signIn("megan@contoso.com");
    w.clock.advance(HOUR_MS);
    const confirming = await w.pass();
    expect(confirming.retired).toEqual([]);
    expect(confirming.plan.join("\n")).not.toMatch(/remove secret/);
    w.clock.advance(HOUR_MS);
    const after = await w.pass();
    expect(after.retired).toEqual([w1]);
    expect(app(w).passwordCredentials.map((p) => p.keyId)).not.toContain(w1);
    expect(w.sim.tenant.connectorSecret()!.password).toBeDefined();
  });

  it("keeps a superseded secret nothing depends on until RETIRE_GRACE_HOURS have passed", async () => {
    world = await startWorld({
      seed: { connectorSecretDaysLeft: 30, grantEmails: [] },
      env: { RETIRE_GRACE_HOURS: "48" },
    });
    const w = world;
    app(w).signInAudience = "AzureADMultipleOrgs";
    await w.pass();
    const w1 = w.sim.tenant.connectorSecret()!.password!.keyId;
    w.clock.advance(DAY_MS);
    await w.pass({ forceRotate: true });
    w.clock.advance(47 * HOUR_MS);
    expect((await w.pass()).retired).toEqual([]);
    w.clock.advance(2 * HOUR_MS);
    expect((await w.pass()).retired).toEqual([w1]);
  });
});

describe("run --dry-run", () => {
  it("plans the rotation and changes nothing anywhere: reads only", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const before = w.sim.requests.length;
    const keysBefore = app(w).passwordCredentials.map((p) => p.keyId);
    const result = await w.pass({ dryRun: true });
    expect(result.rotation.decision).toBe("would-rotate");
    expect(result.plan.join("\n")).toMatch(/rotate the connector's secret/);
    const during = w.sim.requests.slice(before);
    expect(during.length).toBeGreaterThan(0);
    for (const r of during) {
      const read =
        r.method === "GET" ||
        (r.service === "entra" && r.path.endsWith("/oauth2/v2.0/token")) ||
        (r.service === "graph" && r.path.endsWith("/$batch"));
      expect(read, `${r.service} ${r.method} ${r.path}`).toBe(true);
    }
    expect(w.sim.sinks.received).toHaveLength(0);
    expect(w.stateText()).toBe("");
    expect(app(w).passwordCredentials.map((p) => p.keyId)).toEqual(keysBefore);
  });
});

describe("secrets never leak", () => {
  it("no secret value the simulator issued, nor any configured secret, appears in logs, state or alerts", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 }, propagationDelayMs: 5_000 });
    const w = world;
    app(w).signInAudience = "AzureADMultipleOrgs";
    const issued = new Set<string>();
    const snapshot = () => {
      for (const a of w.sim.tenant.appsSnapshot().list)
        for (const p of a.passwordCredentials) issued.add(p.value);
    };
    snapshot();
    await w.pass();
    snapshot();
    w.clock.advance(2 * DAY_MS);
    await w.pass({ forceRotate: true });
    snapshot();
    await w.sim.nylas.expireGrant(w.sim.tenant.nylas.grants[0]!.id);
    w.clock.advance(200 * DAY_MS);
    await w.pass();
    snapshot();
    expect(issued.size).toBeGreaterThanOrEqual(4);

    const secrets = [
      ...issued,
      w.env.NYLAS_API_KEY!,
      w.env.AZURE_CLIENT_SECRET!,
      PAGERDUTY_KEY,
      ALERT_SECRET,
      "slacktoken123456",
      "teamstoken123456",
    ];
    const haystacks = {
      logs: w.logs.join("\n"),
      state: w.stateText(),
      sinks: w.sim.sinks.received.map((r) => `${JSON.stringify(r.headers)}\n${r.body}`).join("\n"),
    };
    expect(haystacks.logs.length).toBeGreaterThan(100);
    expect(haystacks.sinks.length).toBeGreaterThan(100);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets) {
        if (where === "sinks" && secret === PAGERDUTY_KEY) continue; // PagerDuty's own routing key is the envelope's address
        expect(text.includes(secret), `${where} contains a secret (${secret.slice(0, 3)}…)`).toBe(false);
      }
    }
    expect(rotationIdOf(w.sim.tenant.connectorSecret()!.password!.displayName)).toBeDefined();
  });
});

describe("migration seen by the sweep and by `watchdog grants`", () => {
  it("lists users still on the old secret, and the sweep resolves the migration once they re-authenticated", async () => {
    const { sweepGrants } = await import("../../../lib/grants/grant-passes.js");
    const { listAttentionGrants } = await import("../../../lib/grants/list-attention-grants.js");
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    await w.pass();
    const listed = [];
    for await (const g of listAttentionGrants(w.deps())) listed.push(g);
    expect(listed).toHaveLength(3);
    expect(
      listed.every((g) => g.reason === "on-superseded-secret" && g.deadline !== null && g.reauthUrl !== null),
    ).toBe(true);

    w.clock.advance(HOUR_MS);
    for (const g of w.sim.tenant.nylas.grants) await w.sim.nylas.signIn(g.email);
    w.clock.advance(HOUR_MS);
    const swept = await sweepGrants(w.deps());
    expect(swept.onSupersededSecrets).toBe(0);
    const migrationKey = `secret.migration:${w.sim.nylasApp!.appId}`;
    // A routine migration (warning) pages nobody: PagerDuty heard nothing, the chat sinks heard both.
    expect(pagerDuty(w).filter((e) => e.dedup_key === migrationKey)).toEqual([]);
    const webhookEvents = (w.sim.sinks.json("webhook") as { event: string; incident?: { key: string } }[])
      .filter((e) => e.incident?.key === migrationKey)
      .map((e) => e.event);
    expect(webhookEvents).toEqual(["incident.triggered", "incident.resolved"]);
    const after = [];
    for await (const g of listAttentionGrants(w.deps())) after.push(g);
    expect(after).toEqual([]);
  });
});
