/**
 * The alert figure's floor must do the HTTP work `serve` does, or its p99 says
 * nothing about what the product could reach: the signature checked, the grant
 * asked of Nylas, and one accepted alert per sink, each the size asked for and
 * each recognisable as the grant's by the bench. Run as the bench runs it (a
 * child process), against the simulator; no timing here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantIdOfIncidentKey } from "../../lib/grants/grant-signals.js";
import { startSimulator, type SimGrant, type Simulator, type SinkName } from "../../lib/sim/index.js";

const FLOOR = fileURLToPath(new URL("../../bench/alert-floor.ts", import.meta.url));
const WEBHOOK_SECRET = "alert-floor-test-webhook-secret-0123456789";
const BYTES: Record<SinkName, number> = { slack: 1817, teams: 2036, pagerduty: 1609, webhook: 1521 };
const SINKS = Object.keys(BYTES) as SinkName[];

let sim: Simulator;
let child: ChildProcess;
let url: string;

beforeAll(async () => {
  sim = await startSimulator();
  // Node 22 strips the types of a file that imports only `node:` modules, as the bench's children do.
  child = spawn(process.execPath, [FLOOR], {
    env: {
      PATH: process.env.PATH ?? "",
      ...sim.env({
        NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET,
        SLACK_WEBHOOK_URL: sim.sinks.urls.slack,
        TEAMS_WEBHOOK_URL: sim.sinks.urls.teams,
        PAGERDUTY_EVENTS_URL: sim.sinks.urls.pagerduty,
        PAGERDUTY_ROUTING_KEY: "R0UT1NGKEY0000000000000000000000",
        ALERT_WEBHOOK_URL: sim.sinks.urls.webhook,
        ALERT_WEBHOOK_SECRET: "alert-floor-test-alert-secret",
        BENCH_SINK_BYTES: SINKS.map((sink) => `${sink}=${BYTES[sink]}`).join(","),
      }),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  url = /listening on (http:\/\/\S+)/.exec(line.toString())![1]!;
});
afterAll(async () => {
  child.kill("SIGTERM");
  await sim.close();
});

async function post(grant: SimGrant, secret: string): Promise<number> {
  const built = sim.nylas.buildNotification("grant.expired", grant, { webhookSecret: secret });
  const response = await fetch(`${url}/api/nylas/webhook`, {
    method: "POST",
    headers: built.headers,
    body: built.body,
  });
  await response.arrayBuffer();
  return response.status;
}

async function received(count: number): Promise<void> {
  for (let waited = 0; SINKS.some((sink) => sim.sinks.of(sink).length < count); waited += 20) {
    if (waited > 10_000) throw new Error("the floor's alerts did not all arrive");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the alert floor", () => {
  it("asks Nylas for the grant and posts one accepted alert per sink, of the product's size, naming the grant", async () => {
    sim.sinks.clear();
    const grant = sim.tenant.nylas.addGrant({ email: "floor.user@contoso.com" });
    const from = sim.requests.length;
    expect(await post(grant, WEBHOOK_SECRET)).toBe(200);
    await received(1);
    const nylas = sim.requests.slice(from).filter((r) => r.service === "nylas");
    expect(nylas.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v3/grants/${grant.id}`]);
    for (const sink of SINKS) {
      const [alert] = sim.sinks.of(sink);
      expect(alert!.status, `${sink}: ${alert!.body.slice(0, 200)}`).toBeLessThan(300);
      expect(Buffer.byteLength(alert!.body)).toBe(BYTES[sink]);
      // How the bench tells whose alert it is (alert-latency.ts, grantOf).
      if (sink === "pagerduty") {
        const { dedup_key } = JSON.parse(alert!.body) as { dedup_key: string };
        expect(grantIdOfIncidentKey(dedup_key)).toBe(grant.id);
      } else {
        expect(alert!.body).toContain(grant.id);
      }
    }
  });

  it("refuses a notification signed with another secret, and alerts nobody", async () => {
    sim.sinks.clear();
    const grant = sim.tenant.nylas.addGrant({ email: "floor.forged@contoso.com" });
    expect(await post(grant, "another-secret-another-secret-0123456789")).toBe(401);
    // A good one after it: once its alerts are in, the refused one's would have been too.
    expect(await post(sim.tenant.nylas.addGrant({ email: "floor.after@contoso.com" }), WEBHOOK_SECRET)).toBe(
      200,
    );
    await received(1);
    for (const sink of SINKS)
      expect(sim.sinks.of(sink).map((r) => r.body.includes(grant.id))).toEqual([false]);
  });
});
