/**
 * No single wait exceeds the cap, through the real SDKs against the simulator:
 * an Entra token request and a Graph read answered 429 with Retry-After: 3600
 * each ask the injected clock for 60 s at most (the Graph SDK's RetryHandler
 * used to wait up to 180 s per retry on its own timer; @azure/identity honoured
 * the hour). A Graph write is never replayed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";
import { ManualClock } from "../../../lib/clock.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadConfig } from "../../../lib/config.js";
import { GraphClient } from "../../../lib/clients/graph.js";
import { createGraphCredential, graphScope } from "../../../lib/clients/credential.js";

/** A ManualClock that also records every wait asked of it. */
class RecordingClock extends ManualClock {
  readonly waits: number[] = [];
  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.waits.push(ms);
    await super.sleep(ms, signal);
  }
}

let sim: Simulator;
const simClock = new ManualClock();

beforeAll(async () => {
  sim = await startSimulator({ clock: simClock });
});
afterAll(async () => {
  await sim.close();
});

async function client(clock: RecordingClock): Promise<GraphClient> {
  const config = loadConfig(sim.env());
  return GraphClient.create({
    credential: await createGraphCredential(config.azure, { sleep: (ms, s) => clock.sleep(ms, s) }),
    endpoint: config.azure.graphEndpoint,
    clock,
    logger: silentLogger,
  });
}

const tokenRequests = () => sim.requests.filter((r) => r.service === "entra" && r.path.endsWith("/token"));

describe("waits are capped", () => {
  it("an Entra token request answered 429 with Retry-After: 3600 waits at most 60 s, then gets its token", async () => {
    const clock = new RecordingClock();
    const config = loadConfig(sim.env());
    const credential = await createGraphCredential(config.azure, { sleep: (ms, s) => clock.sleep(ms, s) });
    sim.faults.add({
      service: "entra",
      path: /\/oauth2\/v2\.0\/token$/,
      response: { status: 429, headers: { "retry-after": "3600" } },
    });
    const before = tokenRequests().length;
    const token = await credential.getToken(graphScope(config.azure.graphEndpoint));
    expect(token?.token).toBeTruthy();
    expect(
      tokenRequests()
        .slice(before)
        .map((r) => r.status),
    ).toEqual([429, 200]);
    expect(clock.waits).toEqual([60_000]);
  });

  it("a Graph read answered 429 with Retry-After: 3600 waits at most 60 s on the injected clock", async () => {
    const clock = new RecordingClock();
    const graph = await client(clock);
    await graph.tokenClaims();
    const appId = sim.nylasApp!.appId;
    sim.faults.add({
      service: "graph",
      method: "GET",
      path: `/v1.0/applications(appId='${appId}')`,
      response: { status: 429, headers: { "retry-after": "3600" } },
    });
    const before = sim.requests.length;
    const app = await graph.getApplicationByAppId(appId);
    expect(app?.appId).toBe(appId);
    const reads = sim.requests.slice(before).filter((r) => r.service === "graph");
    expect(reads.map((r) => r.status)).toEqual([429, 200]);
    expect(clock.waits).toEqual([60_000]);
  });

  it("a Graph write answered 503 is sent once: no replay, no wait", async () => {
    const clock = new RecordingClock();
    const graph = await client(clock);
    const app = sim.tenant.appByAppId(sim.nylasApp!.appId)!;
    sim.faults.add({
      service: "graph",
      method: "POST",
      path: /\/addPassword$/,
      response: { status: 503, headers: { "retry-after": "1" } },
    });
    const before = sim.requests.length;
    await expect(
      graph.addPassword(app.id, { displayName: "x", endDateTime: simClock.now().toISOString() }),
    ).rejects.toMatchObject({ statusCode: 503, ambiguous: true });
    const posts = sim.requests.slice(before).filter((r) => r.path.endsWith("/addPassword"));
    expect(posts).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });
});
