/**
 * Issue: an Entra 429 with Retry-After: 3600 held a pass for an hour, and the Functions host kills a
 * pass at host.json's functionTimeout (10 min). Each wait is capped at 60 s, but capped waits add
 * up; so the pass works under a deadline (the timeout less a closing margin), never starts a wait
 * or a step that would end past it, and stops at a step boundary with exit 3, naming the service.
 *
 * Driven through the real SDKs against the simulator, on a manual clock that both the product and
 * the simulator read: every wait moves it, so a pass that "takes" minutes runs in seconds, and how
 * long it took is read off the clock.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../helpers/world.js";
import { runWatchdog } from "../helpers/cli.js";
import { FileStateStore } from "../../lib/state/file-store.js";
import { readPassRecord } from "../../lib/rotation/pass-record.js";
import { startSimulator } from "../../lib/sim/index.js";
import type { Incident } from "../../lib/incidents/incident.js";
import type { PassOptions, WatchdogPassResult } from "../../lib/watchdog-pass.js";
import { FUNCTION_TIMEOUT_MS, PASS_BUDGET_MS } from "../../lib/config/function-timeout.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const HOUR = { "retry-after": "3600" };
const TOKEN = /\/oauth2\/v2\.0\/token$/;

/** One pass, and how long it took on the shared clock. */
async function timedPass(
  w: World,
  options: PassOptions = {},
): Promise<{ result: WatchdogPassResult; tookMs: number }> {
  const start = w.clock.now().getTime();
  const result = await w.pass(options);
  return { result, tookMs: w.clock.now().getTime() - start };
}

async function storedRecord(w: World) {
  return readPassRecord(new FileStateStore(w.stateDir));
}

async function firingKeys(w: World): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of new FileStateStore(w.stateDir).list<{ incident: Incident }>("incidents"))
    if (item.value.incident.status === "firing") keys.push(item.value.incident.key);
  return keys;
}

describe("a pass under its deadline", () => {
  it("Entra answering 429 with Retry-After: 3600: the pass ends within its deadline, exits 3 and names Entra; the last complete record stays", async () => {
    world = await startWorld();
    const w = world;
    const complete = await w.pass();
    expect(complete.exitCode).not.toBe(3);
    w.sim.faults.add({
      service: "entra",
      path: TOKEN,
      times: Infinity,
      response: { status: 429, headers: HOUR },
    });

    const { result, tookMs } = await timedPass(w);

    expect(result.exitCode).toBe(3);
    expect(result.stopped).toMatchObject({
      step: "watch",
      service: "entra",
      statusCode: 429,
      retryAfterSeconds: 3600,
    });
    expect(result.stopped!.reason).toBe(
      "stopped at watch: Microsoft Entra ID kept answering 429 (Retry-After 3600 s); the next pass resumes",
    );
    expect(result.rotation).toEqual({
      decision: "stopped",
      reason: result.stopped!.reason,
      connectorKeys: [],
    });
    expect(tookMs).toBeLessThanOrEqual(PASS_BUDGET_MS);
    expect(tookMs).toBeGreaterThanOrEqual(60_000);
    // A stopped pass's partial read must not stand in for a complete one (recovery compares reads).
    const stored = await storedRecord(w);
    expect(stored).toMatchObject({ startedAt: complete.startedAt, finishedAt: complete.finishedAt });
    expect(stored!.connectorSecrets).toEqual(complete.connectorSecrets);
    expect(stored!.stopped).toEqual(result.stopped);
  });

  it("Graph answering 429 with Retry-After: 3600: the pass ends within its deadline, exits 3 and names Graph", async () => {
    world = await startWorld();
    const w = world;
    w.sim.faults.add({
      service: "graph",
      method: "GET",
      path: /.*/,
      times: Infinity,
      response: { status: 429, headers: HOUR },
    });

    const { result, tookMs } = await timedPass(w);

    expect(result.exitCode).toBe(3);
    expect(result.stopped).toMatchObject({
      step: "watch",
      service: "graph",
      statusCode: 429,
      retryAfterSeconds: 3600,
    });
    expect(result.stopped!.reason).toMatch(
      /^stopped at watch: Microsoft Graph kept answering 429 \(Retry-After 3600 s\)/,
    );
    expect(tookMs).toBeLessThanOrEqual(PASS_BUDGET_MS);
    // No complete pass before it: the record says only where this one stopped.
    expect(await storedRecord(w)).toEqual({ startedAt: result.startedAt, stopped: result.stopped });
  });

  it("waits that add up past the deadline: the wait that would cross it is refused, and the pass still ends in time", async () => {
    world = await startWorld();
    const w = world;
    // Nylas, then Entra, then Graph: each throttled for an hour, each wait capped at 60 s.
    w.sim.faults.add({
      service: "nylas",
      path: "/v3/connectors/microsoft",
      times: 3,
      response: { status: 429, headers: HOUR },
    });
    w.sim.faults.add({ service: "entra", path: TOKEN, times: 3, response: { status: 429, headers: HOUR } });
    w.sim.faults.add({
      service: "graph",
      method: "GET",
      path: /.*/,
      times: Infinity,
      response: { status: 429, headers: HOUR },
    });

    const { result, tookMs } = await timedPass(w);

    expect(result.exitCode).toBe(3);
    expect(result.stopped).toMatchObject({ step: "watch", service: "graph", statusCode: 429 });
    expect(result.stopped!.reason).toMatch(
      /^stopped at watch: Microsoft Graph kept answering 429 \(Retry-After 3600 s\), and waiting 60 s more would run past this pass's deadline; the next pass resumes$/,
    );
    // 3 Nylas waits + 3 Entra waits + Graph's would have been well past it.
    expect(tookMs).toBeLessThanOrEqual(PASS_BUDGET_MS);
    expect(tookMs).toBeLessThan(FUNCTION_TIMEOUT_MS);
  });

  it("does not start a rotation that could not finish before the deadline, still alerts on the expiring secret, and the next pass rotates", async () => {
    // Due for rotation, and within ALERT_BEFORE_DAYS.
    world = await startWorld({ seed: { connectorSecretDaysLeft: 10 } });
    const w = world;
    const appId = w.sim.nylasApp!.appId;
    const secretsBefore = w.sim.tenant.appByAppId(appId)!.passwordCredentials.map((p) => p.keyId);
    // The connector's app read throttled 4 times (Retry-After 60 s): the scan uses 4 of the pass's 8 minutes.
    w.sim.faults.add({
      service: "graph",
      method: "GET",
      path: `/v1.0/applications(appId='${appId}')`,
      times: 4,
      response: { status: 429, headers: { "retry-after": "60" } },
    });

    const { result, tookMs } = await timedPass(w, { forceRotate: true });

    expect(result.exitCode).toBe(3);
    expect(result.stopped).toMatchObject({
      step: "rotate",
      service: "graph",
      statusCode: 429,
      retryAfterSeconds: 60,
    });
    expect(result.stopped!.reason).toBe(
      "stopped before rotate: 240 s left before this pass's deadline, and rotate may take 300 s after 240 s of waits: Microsoft Graph kept answering 429 (Retry-After 60 s); the next pass resumes",
    );
    expect(tookMs).toBeLessThanOrEqual(PASS_BUDGET_MS);
    expect(result.rotation).toMatchObject({ decision: "stopped", reason: result.stopped!.reason });
    expect(result.rotation.connectorKeys.length).toBeGreaterThan(0);
    // Nothing half-done: no new secret on the app, no connector update sent.
    expect(w.sim.tenant.appByAppId(appId)!.passwordCredentials.map((p) => p.keyId)).toEqual(secretsBefore);
    expect(w.sim.requests.filter((r) => r.service === "nylas" && r.method === "PATCH")).toEqual([]);
    expect(await firingKeys(w)).toContainEqual(expect.stringMatching(`^secret\\.expiring:${appId}:`));

    const next = await w.pass();
    expect(next.stopped).toBeUndefined();
    expect(next.rotation.decision).toBe("rotated");
    expect((await storedRecord(w))!.stopped).toBeUndefined();
  });
});

describe("watchdog run", () => {
  it("exits 3 and names the throttled service when Nylas keeps answering 429", async () => {
    // The CLI builds its own clock (the system's): throttled without Retry-After, the back-off is
    // a few seconds in all.
    const sim = await startSimulator();
    const stateDir = mkdtempSync(join(tmpdir(), "watchdog-deadline-"));
    try {
      sim.faults.add({
        service: "nylas",
        path: "/v3/connectors/microsoft",
        times: Infinity,
        response: { status: 429 },
      });
      const { code, stdout } = await runWatchdog(
        ["run", "--json"],
        sim.env({ WATCHDOG_STATE_DIR: stateDir }),
      );
      expect(code).toBe(3);
      const doc = JSON.parse(stdout) as WatchdogPassResult;
      expect(doc.exitCode).toBe(3);
      expect(doc.stopped).toMatchObject({ step: "watch", service: "nylas", statusCode: 429 });
      expect(doc.stopped!.reason).toBe("stopped at watch: Nylas kept answering 429; the next pass resumes");
    } finally {
      await sim.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
