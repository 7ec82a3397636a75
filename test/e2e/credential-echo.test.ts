/**
 * Issue: "A Graph 500 whose body echoes the request put the bearer token into
 * stdout, state, and all four sinks." Every error path is driven here through
 * a simulator that quotes each request back — headers (the bearer token, the
 * API key) and body (a token request's client_secret, the connector PATCH's new
 * secret) — as JSON and as an HTML page. Then every output is scanned for every
 * credential the simulator saw: log lines, stdout/stderr, state files, alert
 * bodies and HTTP answers. The credentials are read from the simulator's own
 * request log, not from the product, so a value the product never registered
 * is still caught.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretWatchdog } from "../../functions/secret-watchdog.js";
import { grantSweep } from "../../functions/grant-sweep.js";
import { HOUR_MS } from "../../lib/clock.js";
import { errorMessage } from "../../lib/errors.js";
import type { FaultSpec } from "../../lib/sim/faults.js";
import { runWatchdogPass } from "../../lib/watchdog-pass.js";
import { runWatchdog } from "../helpers/cli.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

const { InvocationContext } = azureFunctions;

let w: World;
/** Everything the product said outside logs, state and sinks: HTTP answers, CLI output, thrown errors. */
const said: string[] = [];
const ECHOES = ["json", "html"] as const;
const TOKEN_PATH = /oauth2\/v2\.0\/token$/;

function context(name: string) {
  return new InvocationContext({
    functionName: name,
    logHandler: (level, ...args) =>
      void w.logs.lines.push(`${level} [${name}] ${args.map(String).join(" ")}`),
  });
}

function echo(
  service: FaultSpec["service"],
  path: FaultSpec["path"],
  kind: "json" | "html",
  status: number,
  method?: string,
): FaultSpec {
  return { service, path, times: Infinity, response: { echo: kind, status }, ...(method ? { method } : {}) };
}

/** Runs `fn` with the faults in place, then removes them; what it threw is output too. */
async function withFaults(faults: FaultSpec[], fn: () => Promise<unknown>): Promise<void> {
  const added = faults.map((f) => w.sim.faults.add(f));
  try {
    await fn();
  } catch (error) {
    said.push(errorMessage(error));
  } finally {
    for (const f of added) w.sim.faults.remove(f);
  }
  expect(
    added.some((f) => f.hits > 0),
    `a fault of ${JSON.stringify(faults.map((f) => String(f.path)))} was hit`,
  ).toBe(true);
}

async function cli(argv: string[], env: Record<string, string> = w.env) {
  const r = await runWatchdog(argv, env);
  said.push(r.stdout, r.stderr);
  return r;
}

/** Every credential the simulator was sent: bearer tokens, API keys, client secrets, in headers and bodies. */
function credentialsSeen(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const note = (name: string, value: string | undefined | null) => {
    if (typeof value !== "string" || value.length < 8) return;
    found.set(value, (found.get(value) ?? new Set()).add(name));
  };
  for (const r of w.sim.requests) {
    const auth = r.headers.authorization;
    if (auth !== undefined) note(`${r.service} bearer`, auth.replace(/^Bearer\s+/i, ""));
    if (r.service === "entra") note("entra client_secret", new URLSearchParams(r.body).get("client_secret"));
    if (r.service.startsWith("nylas") && r.body.includes("client_secret")) {
      try {
        const body = JSON.parse(r.body) as { settings?: { client_secret?: string } };
        note("nylas PATCH client_secret", body.settings?.client_secret);
      } catch {
        // Not JSON: not a connector PATCH.
      }
    }
  }
  for (const app of w.sim.tenant.apps.values())
    for (const p of app.passwordCredentials) note(`secret ${p.keyId}`, p.value);
  for (const [name, value] of Object.entries(w.secrets)) note(name, value);
  note("health key", w.host!.healthKey);
  return found;
}

function leaksIn(text: string, credentials: Map<string, Set<string>>): string[] {
  return [...credentials].filter(([value]) => text.includes(value)).map(([, names]) => [...names].join("/"));
}

beforeAll(async () => {
  w = await startWorld({ seed: { connectorSecretDaysLeft: 10 }, env: { ROTATION: "auto" } });
  const g = w.grants[0]!;

  // The timer pass, Graph echoing its bearer token (as JSON, then as an HTML page).
  for (const kind of ECHOES) {
    await withFaults([echo("graph", /\/applications/, kind, 400, "GET")], () =>
      secretWatchdog({ isPastDue: false } as Timer, context("secretWatchdog")),
    );
  }
  // The CLI: Graph echoing; Entra echoing the watchdog's own client_secret; Nylas echoing its API key.
  for (const kind of ECHOES) {
    await withFaults([echo("graph", /\/applications/, kind, 400, "GET")], () => cli(["scan", "--json"]));
    await withFaults([echo("entra", TOKEN_PATH, kind, 400)], () => cli(["scan"]));
    await withFaults([echo("entra", TOKEN_PATH, kind, 401)], () => cli(["doctor", "--json"]));
    await withFaults([echo("nylas", /^\/v3\/grants/, kind, 400)], () => cli(["grants", "--json"]));
    await withFaults([echo("nylas", /^\/v3\//, kind, 401)], () => cli(["sweep", "--verbose"]));
  }

  // The webhook: the grant look-up answered with an echo (a gateway's 502 page, then a JSON 400).
  g.grant_status = "invalid";
  w.sim.tenant.nylas.touch();
  for (const [kind, status] of [
    ["html", 502],
    ["json", 400],
  ] as const) {
    await withFaults([echo("nylas", `/v3/grants/${g.id}`, kind, status, "GET")], async () => {
      const res = await w.deliver(w.build("grant.expired", g));
      said.push(res.text);
    });
  }
  // The sweep timer, Nylas echoing.
  for (const kind of ECHOES) {
    w.manualClock!.advance(HOUR_MS);
    await withFaults([echo("nylas", /^\/v3\//, kind, 400, "GET")], () =>
      grantSweep({ isPastDue: false } as Timer, context("grantSweep")),
    );
  }

  // Rotation: Entra echoes the proof's token request (the new secret in its body), then, on the next
  // pass, Nylas echoes the connector PATCH (the new secret in its JSON).
  const proofEcho = echo("entra", TOKEN_PATH, "html", 400);
  const active: ReturnType<typeof w.sim.faults.add>[] = [];
  try {
    await runWatchdogPass(w.deps, {
      afterStep: (step) => {
        if (step === "password-added") active.push(w.sim.faults.add(proofEcho));
      },
    }).then((r) => said.push(JSON.stringify(r)));
  } finally {
    for (const f of active) w.sim.faults.remove(f);
  }
  expect(active[0]?.hits ?? 0).toBeGreaterThan(0);
  await withFaults([echo("nylas", "/v3/connectors/microsoft", "json", 400, "PATCH")], () =>
    runWatchdogPass(w.deps, { forceRotate: true }).then((r) => said.push(JSON.stringify(r))),
  );

  // The health key: in the query string of valid and invalid requests to the host.
  const key = w.host!.healthKey;
  for (const url of [
    `/api/health?code=${key}`,
    `/api/health/x?code=${key}`,
    `/api/nylas/webhook?code=${key}`,
  ]) {
    const res = await fetch(`${w.host!.url}${url}`, {
      method: url.includes("webhook") ? "POST" : "GET",
      body: url.includes("webhook") ? "{}" : undefined,
    });
    said.push(await res.text());
  }
  // Alerts raised along the way go out.
  await (await w.deps.incidents()).deliver({ deadlineMs: 30_000 });
}, 240_000);

afterAll(async () => {
  await w?.close();
});

// fidelity: F1
describe("credentials echoed in error bodies reach no output", () => {
  it("the scenario exercised the paths: echoes were answered, alerts sent, state written, errors reported", () => {
    expect(w.sim.requests.some((r) => r.service === "entra" && r.status === 400)).toBe(true);
    expect(w.sim.requests.some((r) => r.service === "graph" && r.status === 400)).toBe(true);
    expect(w.sim.requests.some((r) => r.service === "nylas" && r.status === 502)).toBe(true);
    expect(w.sim.requests.some((r) => r.method === "PATCH" && r.status === 400)).toBe(true);
    expect(w.sim.sinks.received.length).toBeGreaterThan(0);
    expect(w.stateFiles().size).toBeGreaterThan(5);
    const credentials = credentialsSeen();
    const kinds = new Set([...credentials.values()].flatMap((names) => [...names]));
    // The bearer tokens of Graph and Nylas, the watchdog's client secret, a secret issued in rotation, the health key.
    for (const kind of [
      "graph bearer",
      "nylas bearer",
      "entra client_secret",
      "nylas PATCH client_secret",
      "health key",
    ])
      expect([...kinds], kind).toContain(kind);
    // The redaction did happen somewhere: the product saw the echoes and cut them out.
    expect([...w.logs.lines, ...said].some((l) => l.includes("[REDACTED]"))).toBe(true);
  });

  it("not in any log line", () => {
    const credentials = credentialsSeen();
    expect(w.logs.lines.flatMap((l) => leaksIn(l, credentials))).toEqual([]);
  });

  it("not in any CLI output, HTTP answer or thrown error", () => {
    const credentials = credentialsSeen();
    expect(said.flatMap((text) => leaksIn(text, credentials))).toEqual([]);
  });

  it("not in any state file", () => {
    const credentials = credentialsSeen();
    const leaks = [...w.stateFiles()].flatMap(([name, text]) =>
      leaksIn(text, credentials).map((k) => `${name}: ${k}`),
    );
    expect(leaks).toEqual([]);
  });

  it("not in any alert (PagerDuty's own routing_key aside, the one place it belongs)", () => {
    const credentials = credentialsSeen();
    const leaks = w.sim.sinks.received.flatMap((r) => {
      let body = r.body;
      if (r.sink === "pagerduty") {
        const parsed = JSON.parse(body) as Record<string, unknown>;
        delete parsed.routing_key;
        body = JSON.stringify(parsed);
      }
      return leaksIn(body, credentials).map((k) => `${r.sink}: ${k}`);
    });
    expect(leaks).toEqual([]);
  });
});
