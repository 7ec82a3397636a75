/**
 * "Never a secret, token or API key in any log, alert or state record —
 * tested, not hoped." A busy day through the real host, the functions and the
 * CLI — genuine and forged notifications, a watch pass over Graph, sinks and
 * Nylas failing with error bodies that echo their credentials back — then
 * everything captured is scanned for every secret the settings hold.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretWatchdog } from "../../functions/secret-watchdog.js";
import { grantSweep } from "../../functions/grant-sweep.js";
import { HOUR_MS } from "../../lib/clock.js";
import { signNylasBody } from "../../lib/grants/verify-nylas-signature.js";
import { runWatchdog } from "../helpers/cli.js";
import { secretsIn, startWorld, type World } from "../helpers/watchdog-world.js";

const { InvocationContext } = azureFunctions;

let w: World;
/** Everything the product said outside logs and sinks: HTTP answers, CLI output. */
const said: string[] = [];

function context(name: string) {
  return new InvocationContext({
    functionName: name,
    logHandler: (level, ...args) =>
      void w.logs.lines.push(`${level} [${name}] ${args.map(String).join(" ")}`),
  });
}

beforeAll(async () => {
  w = await startWorld({ seed: { connectorSecretDaysLeft: 10 } });
  const s = w.secrets;
  const [g0, g1, g2] = w.grants as [(typeof w.grants)[0], (typeof w.grants)[0], (typeof w.grants)[0]];

  // A watch pass over Graph (the Azure client secret is used), raising the expiring-secret incident.
  await secretWatchdog({ isPastDue: false } as Timer, context("secretWatchdog"));

  // Sinks refusing, with error bodies that echo their credentials.
  w.sim.faults.add({
    service: "sinks",
    path: "/pagerduty/v2/enqueue",
    times: 1,
    response: {
      status: 400,
      body: {
        status: "invalid event",
        message: `routing key ${s.PAGERDUTY_ROUTING_KEY} unknown`,
        errors: [s.PAGERDUTY_ROUTING_KEY],
      },
    },
  });
  w.sim.faults.add({
    service: "sinks",
    path: /^\/slack\//,
    times: 1,
    response: { status: 404, body: `no_service ${s.SLACK_URL_TOKEN}` },
  });
  w.sim.faults.add({
    service: "sinks",
    path: /^\/teams\//,
    times: 1,
    response: { status: 403, body: `bad sig=${s.TEAMS_URL_SIG}` },
  });
  w.sim.faults.add({
    service: "sinks",
    path: /^\/webhook\//,
    times: 1,
    response: {
      status: 500,
      body: `secret ${s.ALERT_WEBHOOK_SECRET} at /webhook/${s.ALERT_WEBHOOK_URL_TOKEN}`,
    },
  });

  // Genuine notifications.
  for (const g of [g0, g1]) {
    g.grant_status = "invalid";
    const res = await w.deliver(w.build("grant.expired", g));
    said.push(res.text);
  }
  w.sim.tenant.nylas.touch();

  // Forged ones: unsigned, signed with the API key, the webhook secret itself as the signature.
  const forged = w.build("grant.expired", g2);
  for (const headers of [
    { "content-type": "application/json" } as Record<string, string>,
    { "content-type": "application/json", "x-nylas-signature": signNylasBody(forged.body, s.NYLAS_API_KEY!) },
    { "content-type": "application/json", "x-nylas-signature": s.NYLAS_WEBHOOK_SECRET! },
  ]) {
    said.push((await w.post(forged.body, headers)).text);
  }

  // Nylas refusing with an error that echoes the API key.
  g1.grant_status = "valid";
  w.sim.tenant.nylas.touch();
  w.sim.faults.add({
    service: "nylas",
    method: "GET",
    path: `/v3/grants/${g1.id}`,
    times: 1,
    response: {
      status: 401,
      body: {
        request_id: "r1",
        error: { type: "unauthorized", message: `Invalid API key ${s.NYLAS_API_KEY}` },
      },
    },
  });
  said.push((await w.deliver(w.build("grant.updated", g1))).text);

  // Sweeps (timer seam), retrying what failed; then an hour later, a repeat.
  for (let i = 0; i < 3; i++) {
    w.manualClock!.advance(HOUR_MS);
    await grantSweep({ isPastDue: false } as Timer, context("grantSweep"));
  }

  // Health, and the CLI.
  said.push(
    await (
      await fetch(`${w.host!.url}/api/health`, { headers: { "x-functions-key": w.host!.healthKey } })
    ).text(),
  );
  for (const argv of [["grants", "--json"], ["grants"], ["sweep", "--json"], ["sweep", "--verbose"]]) {
    const r = await runWatchdog(argv, w.env);
    said.push(r.stdout, r.stderr);
  }
  const wrong = await runWatchdog(["grants"], { ...w.env, NYLAS_API_KEY: `${s.NYLAS_API_KEY}x` });
  said.push(wrong.stdout, wrong.stderr);
});

afterAll(async () => {
  await w?.close();
});

describe("no secret anywhere", () => {
  it("the scenario did exercise every path (alerts on every sink, refusals logged, state written)", () => {
    const sinks = new Set(w.sim.sinks.received.filter((r) => r.status < 300).map((r) => r.sink));
    expect([...sinks].sort()).toEqual(["pagerduty", "slack", "teams", "webhook"]);
    expect(w.logs.lines.some((l) => l.includes("invalid x-nylas-signature"))).toBe(true);
    expect(w.logs.lines.some((l) => l.includes("refuses its URL or key"))).toBe(true);
    expect(w.logs.lines.some((l) => l.includes("[REDACTED]"))).toBe(true);
    expect([...w.stateFiles().keys()].some((k) => k.startsWith("deliveries"))).toBe(true);
    expect(w.sim.requests.some((r) => r.service === "graph")).toBe(true);
  });

  it("not in any log line (the InvocationContext's and the host's)", () => {
    const leaks = w.logs.lines.filter((l) => secretsIn(l, w.secrets).length > 0);
    expect(leaks).toEqual([]);
  });

  it("not in any alert body or header any sink received (PagerDuty's own routing_key field aside)", () => {
    for (const r of w.sim.sinks.received) {
      let body = r.body;
      if (r.sink === "pagerduty") {
        const parsed = JSON.parse(body) as Record<string, unknown>;
        // The Events API takes its credential in the body: the one place it belongs.
        expect(parsed.routing_key).toBe(w.secrets.PAGERDUTY_ROUTING_KEY);
        delete parsed.routing_key;
        body = JSON.stringify(parsed);
      }
      expect(secretsIn(body, w.secrets), `${r.sink} body`).toEqual([]);
      expect(secretsIn(JSON.stringify(r.headers), w.secrets), `${r.sink} headers`).toEqual([]);
    }
  });

  it("not in any file under the state directory", () => {
    const files = w.stateFiles();
    expect(files.size).toBeGreaterThan(5);
    const leaks = [...files]
      .filter(([, text]) => secretsIn(text, w.secrets).length > 0)
      .map(([name]) => name);
    expect(leaks).toEqual([]);
  });

  it("not in any HTTP answer, health report or CLI output", () => {
    const leaks = said.filter((text) => secretsIn(text, w.secrets).length > 0);
    expect(leaks).toEqual([]);
  });
});
