import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { FileStateStore } from "../../../lib/state/file-store.js";
import { loadKeyRecords, type KeyRecord } from "../../../lib/rotation/records.js";
import { rotationIdOf } from "../../../lib/rotation/marker.js";
import { ROTATION_STEPS, type RotationStep } from "../../../lib/rotation/rotate.js";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function records(w: World): Promise<KeyRecord[]> {
  return (await loadKeyRecords(new FileStateStore(w.stateDir), w.sim.nylasApp!.appId)).map((i) => i.value);
}

function app(w: World) {
  return w.sim.tenant.appByAppId(w.sim.nylasApp!.appId)!;
}

function watchdogKeys(w: World) {
  return app(w).passwordCredentials.filter((p) => rotationIdOf(p.displayName) !== undefined);
}

/** The connector holds a secret Entra accepts right now. */
function connectorIsLive(w: World): boolean {
  const held = w.sim.tenant.connectorSecret();
  if (held?.app === undefined || held.password === undefined) return false;
  return w.sim.tenant.checkSecret(held.app, held.password.value).ok;
}

/** No watchdog-created key exists that the watchdog does not track as (possibly) in the connector or superseded. */
async function expectNoOrphans(w: World): Promise<void> {
  const tracked = new Map((await records(w)).map((r) => [r.keyId, r.state]));
  for (const key of watchdogKeys(w)) {
    expect(["installed", "sent", "superseded"], `key ${key.keyId}`).toContain(tracked.get(key.keyId));
  }
}

/** An app for work or school accounts only: no cap on the number of secrets. */
function orgOnly(w: World): void {
  app(w).signInAudience = "AzureADMultipleOrgs";
}

function patches(w: World) {
  return w.sim.requests.filter((r) => r.service === "nylas" && r.method === "PATCH");
}

function addPasswordCalls(w: World) {
  return w.sim.requests.filter(
    (r) => r.service === "graph" && r.method === "POST" && r.path.endsWith("/addPassword"),
  );
}

describe("rotation: the happy path", () => {
  it("rotates a due secret: new secret, proven, installed with the full settings, recorded without its value", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const before = w.sim.tenant.nylas.connector!;
    const oldScope = [...before.scope];
    const startedAt = w.clock.now().getTime();
    const result = await w.pass();

    expect(result.rotation.decision).toBe("rotated");
    expect(result.exitCode).toBe(0);
    const [patch] = patches(w);
    expect(patches(w)).toHaveLength(1);
    const body = JSON.parse(patch!.body) as { settings: Record<string, string>; scope: string[] };
    expect(Object.keys(body.settings).sort()).toEqual(["client_id", "client_secret", "tenant"]);
    expect(body.settings.client_id).toBe(w.sim.nylasApp!.appId);
    expect(body.settings.tenant).toBe("common");
    expect(body.scope).toEqual(oldScope);

    const connector = w.sim.tenant.nylas.connector!;
    expect(connector.scope).toEqual(oldScope);
    expect(connectorIsLive(w)).toBe(true);
    const held = w.sim.tenant.connectorSecret()!.password!;
    expect(rotationIdOf(held.displayName)).toBe(result.rotation.outcome?.rotationId);
    // The secret lives 180 days (SECRET_LIFETIME_DAYS) from when it was created.
    expect(Date.parse(held.endDateTime) - startedAt).toBe(180 * DAY_MS);

    const recs = await records(w);
    expect(recs.find((r) => r.keyId === held.keyId)?.state).toBe("installed");
    expect(recs.find((r) => r.keyId === "foreign")?.state).toBe("superseded");
    // The value is nowhere in state.
    expect(w.stateText()).not.toContain(held.value);

    // rotation.succeeded reached the webhook, Slack and Teams.
    const events = w.sim.sinks.json("webhook") as { event: string }[];
    expect(events.map((e) => e.event)).toContain("rotation.succeeded");
    // Only one secret was added.
    expect(addPasswordCalls(w)).toHaveLength(1);
  });

  it("does nothing when the connector's secret is not due", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 120 } });
    const result = await world.pass();
    expect(result.rotation.decision).toBe("not-due");
    expect(addPasswordCalls(world)).toHaveLength(0);
    expect(patches(world)).toHaveLength(0);
  });

  it("is idempotent: two passes add one secret", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    await world.pass();
    const second = await world.pass();
    expect(second.rotation.decision).toBe("not-due");
    expect(addPasswordCalls(world)).toHaveLength(1);
    expect(patches(world)).toHaveLength(1);
  });

  it("two concurrent passes rotate once (single-flight lease)", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const [a, b] = await Promise.all([world.pass(), world.pass()]);
    const decisions = [a.rotation.decision, b.rotation.decision].sort();
    expect(decisions).toContain("rotated");
    expect(addPasswordCalls(world)).toHaveLength(1);
    expect(patches(world)).toHaveLength(1);
    expect(connectorIsLive(world)).toBe(true);
  });
});

describe("rotation: Entra propagation", () => {
  // fidelity: E9
  it("sends no PATCH before Entra first accepts the new secret", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 }, propagationDelayMs: 90_000 });
    const w = world;
    const result = await w.pass();
    expect(result.rotation.decision).toBe("rotated");
    const appId = w.sim.nylasApp!.appId;
    const tokenCalls = w.sim.requests.filter(
      (r) =>
        r.service === "entra" &&
        r.path.endsWith("/oauth2/v2.0/token") &&
        new URLSearchParams(r.body).get("client_id") === appId,
    );
    const firstAccepted = tokenCalls.findIndex((r) => r.status === 200);
    expect(firstAccepted).toBeGreaterThan(0); // refused (AADSTS7000215) at least once first
    expect(tokenCalls.slice(0, firstAccepted).every((r) => r.status === 401)).toBe(true);
    const patchIndex = w.sim.requests.indexOf(patches(w)[0]!);
    expect(patchIndex).toBeGreaterThan(w.sim.requests.indexOf(tokenCalls[firstAccepted]!));
    expect(
      result.rotation.outcome?.status === "rotated" && result.rotation.outcome.propagationMs,
    ).toBeGreaterThanOrEqual(90_000);
  });

  // fidelity: E11
  it("Entra replicas that disagree (accepted, then refused twice) still end in one rotation, after a full proof", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    w.sim.tenant.propagationFlaps = { refusalsAfterFirstAccept: 2 };
    const result = await w.pass();
    expect(result.rotation.decision).toBe("rotated");
    const appId = w.sim.nylasApp!.appId;
    const statuses = w.sim.requests
      .filter(
        (r) =>
          r.service === "entra" &&
          r.path.endsWith("/token") &&
          new URLSearchParams(r.body).get("client_id") === appId,
      )
      .map((r) => r.status);
    // accepted, refused, refused, then three accepted in a row before the PATCH.
    expect(statuses.slice(0, 3)).toEqual([200, 401, 401]);
    expect(statuses.slice(3)).toEqual([200, 200, 200]);
    expect(patches(w)).toHaveLength(1);
    expect(watchdogKeys(w)).toHaveLength(1);
    expect(connectorIsLive(w)).toBe(true);
  });

  // fidelity: E9, E10
  it("a brand-new secret refused as expired (AADSTS7000222) while it propagates is waited for, then rotated", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 }, propagationDelayMs: 20_000 });
    const w = world;
    w.sim.tenant.notPropagatedCode = "7000222";
    const result = await w.pass();
    expect(result.rotation.decision).toBe("rotated");
    // Entra answered "expired" first; the proof kept waiting rather than giving up.
    expect(w.logs.some((l) => l.includes("not accepted yet (AADSTS7000222"))).toBe(true);
    expect(connectorIsLive(w)).toBe(true);
  });

  // fidelity: E9
  it("gives up after PROPAGATION_TIMEOUT_SECONDS, removes the new secret, and alerts", async () => {
    world = await startWorld({
      seed: { connectorSecretDaysLeft: 10 },
      propagationDelayMs: 600_000,
      env: { PROPAGATION_TIMEOUT_SECONDS: "60" },
    });
    const w = world;
    const result = await w.pass();
    expect(result.rotation.decision).toBe("failed");
    expect(result.exitCode).toBe(3);
    expect(patches(w)).toHaveLength(0);
    expect(watchdogKeys(w)).toHaveLength(0);
    expect(connectorIsLive(w)).toBe(true);
    const pd = w.sim.sinks.json("pagerduty") as {
      event_action: string;
      dedup_key: string;
      payload: { severity: string };
    }[];
    const failed = pd.find((e) => e.dedup_key.startsWith("rotation.failed:"));
    // The connector's secret has 10 days left (≤ ALERT_BEFORE_DAYS 14): critical.
    expect(failed?.payload.severity).toBe("critical");
  });
});

describe("rotation: Graph refusals", () => {
  it("falls back to a shorter lifetime when tenant policy refuses the configured one, and warns", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    world.sim.tenant.lifetimePolicyMaxDays = 90;
    const result = await world.pass();
    expect(result.rotation.decision).toBe("rotated");
    const outcome = result.rotation.outcome!;
    expect(outcome.status === "rotated" && outcome.lifetimeDays).toBe(90);
    expect(outcome.warnings.join(" ")).toMatch(/Lower SECRET_LIFETIME_DAYS to 90/);
    const refused = addPasswordCalls(world).filter((r) => r.status === 400);
    expect(refused.length).toBeGreaterThan(0);
  });

  // fidelity: E12
  it("TooManyAppPasswords with only foreign secrets: removes nothing and says exactly what to do", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const other = w.sim.tenant.addSecret(app(w).id, {
      displayName: "someone else's",
      endDateTime: new Date(w.clock.now().getTime() + 300 * DAY_MS),
    });
    const result = await w.pass();
    expect(result.rotation.decision).toBe("failed");
    const outcome = result.rotation.outcome!;
    expect(outcome.status).toBe("failed");
    expect(outcome.status === "failed" && outcome.instructions).toMatch(
      /Certificates & secrets, the secrets are: .*not made by the watchdog: may be in the connector.*Remove one only once you know no Nylas grant uses it/,
    );
    expect(outcome.status === "failed" && outcome.instructions).not.toMatch(/nothing uses/);
    expect(app(w).passwordCredentials.map((p) => p.keyId)).toContain(other.keyId);
    expect(app(w).passwordCredentials).toHaveLength(2);
    expect(connectorIsLive(w)).toBe(true);
  });

  // fidelity: E12
  it("TooManyAppPasswords frees a slot by removing an expired watchdog-created secret", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30, grantEmails: [] } });
    const w = world;
    await w.pass(); // W1 installed; the foreign secret superseded
    const w1 = w.sim.tenant.connectorSecret()!.password!.keyId;
    // The foreign secret's owner deletes it; a forced rotation installs W2 and supersedes W1.
    const foreign = app(w).passwordCredentials.find((p) => rotationIdOf(p.displayName) === undefined)!;
    w.sim.tenant.removePassword(app(w), foreign.keyId);
    w.clock.advance(1 * DAY_MS);
    expect((await w.pass({ forceRotate: true })).rotation.decision).toBe("rotated");
    const w2 = w.sim.tenant.connectorSecret()!.password!.keyId;
    // Just after W1 expired (W2 has a day left): a third secret does not fit, so the expired W1 makes room.
    w.clock.set(
      new Date(Date.parse(app(w).passwordCredentials.find((p) => p.keyId === w1)!.endDateTime) + HOUR_MS),
    );
    const result = await w.pass();
    expect(result.rotation.decision).toBe("rotated");
    expect(result.rotation.outcome?.warnings.join(" ")).toMatch(new RegExp(`Removed secret ${w1}`));
    const keys = app(w).passwordCredentials.map((p) => p.keyId);
    expect(keys).not.toContain(w1);
    expect(keys).toContain(w2);
    expect(connectorIsLive(w)).toBe(true);
  });

  it("retries addPassword on 429 and on 'concurrent requests to the tenant'", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    w.sim.faults.add({
      service: "graph",
      method: "POST",
      path: /\/addPassword$/,
      response: { status: 429, headers: { "retry-after": "1" } },
    });
    w.sim.faults.add({
      service: "graph",
      method: "POST",
      path: /\/addPassword$/,
      response: {
        status: 400,
        body: {
          error: {
            code: "Request_BadRequest",
            message: "Error due to concurrent requests being made to the tenant. Please retry.",
          },
        },
      },
    });
    const result = await w.pass();
    expect(result.rotation.decision).toBe("rotated");
    expect(addPasswordCalls(w).map((r) => r.status)).toEqual([429, 400, 200]);
    expect(watchdogKeys(w)).toHaveLength(1);
  });
});

describe("rotation: the Nylas PATCH", () => {
  it("a definitive refusal removes the new secret; the next pass rotates", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    w.sim.faults.add({
      service: "nylas",
      method: "PATCH",
      path: "/v3/connectors/microsoft",
      response: {
        status: 400,
        body: { request_id: "x", error: { type: "invalid_request_error", message: "bad" } },
      },
    });
    const first = await w.pass();
    expect(first.rotation.decision).toBe("failed");
    expect(watchdogKeys(w)).toHaveLength(0);
    expect(connectorIsLive(w)).toBe(true);
    const second = await w.pass();
    expect(second.rotation.decision).toBe("rotated");
    await expectNoOrphans(w);
    expect(watchdogKeys(w)).toHaveLength(1);
  });

  it("an ambiguous PATCH keeps the key (marked); the next definitive switch supersedes it and retirement removes it", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30, grantEmails: [] } });
    const w = world;
    orgOnly(w);
    // Applied, but every answer is a connection reset: the watchdog cannot know.
    w.sim.faults.add({
      service: "nylas",
      method: "PATCH",
      path: "/v3/connectors/microsoft",
      when: "after",
      times: Infinity,
      response: { reset: true },
    });
    const first = await w.pass();
    expect(first.rotation.decision).toBe("failed");
    expect(first.rotation.outcome?.status === "failed" && first.rotation.outcome.ambiguous).toBe(true);
    const ambiguous = (await records(w)).find((r) => r.state === "sent");
    expect(ambiguous?.ambiguous).toBe(true);
    expect(watchdogKeys(w).map((k) => k.keyId)).toContain(ambiguous!.keyId);
    expect(connectorIsLive(w)).toBe(true);

    w.sim.faults.clear();
    const second = await w.pass();
    expect(second.rotation.decision).toBe("rotated");
    expect(connectorIsLive(w)).toBe(true);
    const after = await records(w);
    expect(after.find((r) => r.keyId === ambiguous!.keyId)?.state).toBe("superseded");
    await expectNoOrphans(w);

    // No grant was authenticated in its window: after RETIRE_GRACE_HOURS it goes.
    w.clock.advance(25 * HOUR_MS);
    const third = await w.pass();
    expect(third.retired).toContain(ambiguous!.keyId);
    expect(app(w).passwordCredentials.map((p) => p.keyId)).not.toContain(ambiguous!.keyId);
    expect(connectorIsLive(w)).toBe(true);
  });

  it("a PATCH that succeeds but answers late is retried and counts as definitive", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    w.sim.faults.add({
      service: "nylas",
      method: "PATCH",
      path: "/v3/connectors/microsoft",
      when: "after",
      response: { delayMs: 2_500 },
    });
    const result = await w.pass({}, {}, { nylasTimeoutSeconds: 1 });
    expect(result.rotation.decision).toBe("rotated");
    expect(patches(w).length).toBeGreaterThanOrEqual(2);
    expect(watchdogKeys(w)).toHaveLength(1);
    expect(w.sim.tenant.connectorSecret()!.password!.keyId).toBe(watchdogKeys(w)[0]!.keyId);
  });
});

describe("rotation: crash at every step", () => {
  for (const crashAt of ROTATION_STEPS) {
    it(`a crash after "${crashAt}" leaves the connector working; the next pass finishes or cleans up`, async () => {
      world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
      const w = world;
      orgOnly(w);
      const crash = (step: RotationStep) => {
        if (step === crashAt) throw new Error(`injected crash after ${step}`);
      };
      await w.pass({ afterStep: crash });
      expect(connectorIsLive(w)).toBe(true);

      const next = await w.pass();
      expect(connectorIsLive(w)).toBe(true);
      await expectNoOrphans(w);
      // Either this pass finished the job, or the first one already had.
      const held = w.sim.tenant.connectorSecret()!.password!;
      expect(rotationIdOf(held.displayName)).toBeDefined();
      expect(["rotated", "not-due"]).toContain(next.rotation.decision);
      // The connector never pointed at a removed secret, and at most one extra secret remains.
      expect(watchdogKeys(w).length).toBeLessThanOrEqual(2);
    });
  }
});

// fidelity: E12
describe("rotation: an app capped at two secrets", () => {
  it("after an interrupted PATCH it cannot add a third: the connector stays live and on-call gets exact steps", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    await w.pass({
      afterStep: (step) => {
        if (step === "connector-patched") throw new Error("injected crash");
      },
    });
    const next = await w.pass();
    expect(connectorIsLive(w)).toBe(true);
    await expectNoOrphans(w);
    // The connector may hold either secret: neither may be removed, so a person must free a slot.
    expect(next.rotation.decision).toBe("failed");
    const outcome = next.rotation.outcome;
    expect(outcome?.status === "failed" && outcome.reason).toMatch(/may hold either of .* or /);
    expect(outcome?.status === "failed" && outcome.instructions).toMatch(/Application credential activity/);
    expect(outcome?.status === "failed" && outcome.instructions).not.toMatch(/nothing uses/);
    expect(app(w).passwordCredentials).toHaveLength(2);
  });
});

describe("rotation: Graph writes are never replayed blindly", () => {
  // fidelity: E12, E13
  it("a 504 after addPassword created the secret (app capped at two): one rotation, exactly one new key, no TooManyAppPasswords", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    expect(app(w).signInAudience).toBe("AzureADandPersonalMicrosoftAccount");
    w.sim.faults.add({
      service: "graph",
      method: "POST",
      path: /\/addPassword$/,
      when: "after",
      response: { status: 504 },
    });
    const result = await w.pass();
    expect(result.rotation.decision).toBe("rotated");
    // The SDK did not replay the POST; the watchdog read back, removed the value-less twin, added once more.
    expect(addPasswordCalls(w).map((r) => r.status)).toEqual([504, 200]);
    expect(w.sim.requests.some((r) => r.body.includes("TooManyAppPasswords"))).toBe(false);
    expect(watchdogKeys(w)).toHaveLength(1);
    expect(app(w).passwordCredentials).toHaveLength(2);
    expect(w.sim.tenant.connectorSecret()!.password!.keyId).toBe(watchdogKeys(w)[0]!.keyId);
    expect(connectorIsLive(w)).toBe(true);
  });

  // fidelity: E9
  it("a removePassword answering 503 is not replayed by the SDK; the watchdog's own retry finishes it", async () => {
    world = await startWorld({
      seed: { connectorSecretDaysLeft: 10 },
      propagationDelayMs: 600_000,
      env: { PROPAGATION_TIMEOUT_SECONDS: "30" },
    });
    const w = world;
    w.sim.faults.add({
      service: "graph",
      method: "POST",
      path: /\/removePassword$/,
      when: "after",
      response: { status: 503 },
    });
    const result = await w.pass();
    expect(result.rotation.decision).toBe("failed");
    const removes = w.sim.requests.filter((r) => r.service === "graph" && r.path.endsWith("/removePassword"));
    // First answer 503 after removing; the retry finds it gone (400 InvalidKeyId) and counts that as done.
    expect(removes.map((r) => r.status)).toEqual([503, 400]);
    expect(watchdogKeys(w)).toHaveLength(0);
  });
});

// fidelity: N1
describe("rotation: the PATCH sends back exactly what the connector has", () => {
  it("a connector without tenant or scope keeps having none", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    const connector = w.sim.tenant.nylas.connector!;
    delete connector.settings.tenant;
    connector.settings.custom_flag = "kept";
    const result = await w.pass();
    expect(result.rotation.decision).toBe("rotated");
    const body = JSON.parse(patches(w)[0]!.body) as { settings: Record<string, unknown>; scope?: unknown };
    expect(Object.keys(body.settings).sort()).toEqual(["client_id", "client_secret", "custom_flag"]);
    expect(w.sim.tenant.nylas.connector!.settings.tenant).toBeUndefined();
    expect(w.sim.tenant.nylas.connector!.settings.custom_flag).toBe("kept");
    expect(body.scope).toEqual(connector.scope);
  });

  it("a connector read without client_id is not rotated, and the alert names what is missing", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    delete w.sim.tenant.nylas.connector!.settings.client_id;
    const result = await w.pass();
    expect(patches(w)).toHaveLength(0);
    expect(addPasswordCalls(w)).toHaveLength(0);
    expect(result.rotation.decision).toBe("no-connector");
    expect(result.scan.problems.map((p) => p.code)).toContain("connector.no-client-id");
    const events = JSON.stringify(w.sim.sinks.json("webhook"));
    expect(events).toMatch(/rotation\.blocked/);
    expect(events).toMatch(/no client_id/);
  });
});
