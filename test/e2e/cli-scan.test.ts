/**
 * The CLI as a user runs it: `npx watchdog …` in a child process (the bundled
 * `dist/cli`, as `npm ci` leaves it), settings from the environment, pointed at a
 * running simulator. Logs must stay on stderr so stdout is one JSON document.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../lib/sim/index.js";
import { runProcess, type ProcessResult } from "../helpers/run-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DAY_MS = 86_400_000;

/** The `watchdog` bin package.json declares (the bundled CLI in dist/cli). */
const BIN = join(
  ROOT,
  (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: { watchdog: string } }).bin
    .watchdog,
);

/**
 * `watchdog <args>` as `npx watchdog` runs it (the declared bin, on Node 22), with only what a
 * user would set: no AZURE_ or NYLAS_ settings inherited from the test runner. Not through npx
 * itself: npx caches a link per project path, and a cache left from an older checkout at the
 * same path would run a stale file.
 */
function watchdog(args: string[], env: Record<string, string>): Promise<ProcessResult> {
  return runProcess(process.execPath, [BIN, ...args], { env, cwd: ROOT });
}

let sim: Simulator;
let watchedAppId: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: { connectorSecretDaysLeft: 100 } });
  const other = sim.tenant.addApp({ displayName: "Payroll sync" });
  sim.tenant.addSecret(other.id, { displayName: "prod", endDateTime: new Date(Date.now() + 200 * DAY_MS) });
  sim.tenant.addSecret(other.id, { displayName: "old", endDateTime: new Date(Date.now() + 300 * DAY_MS) });
  sim.tenant.addOwner(other.id, sim.watchdog.servicePrincipalId);
  watchedAppId = other.appId;
});
afterAll(async () => {
  await sim.close();
});

describe("npx watchdog scan --json", () => {
  it("exits 0 when nothing is within ALERT_BEFORE_DAYS, and lists every credential with its days left", async () => {
    const { code, stdout } = await watchdog(["scan", "--json"], sim.env({ WATCH_APP_IDS: watchedAppId }));
    expect(code).toBe(0);
    const doc = JSON.parse(stdout) as {
      schema: string;
      credentials: { appId: string; keyId: string; daysLeft: number; status: string; source: string }[];
      summary: { credentials: number };
      exitCode: number;
    };
    expect(doc.schema).toBe("secret-watchdog.scan/v1");
    expect(doc.exitCode).toBe(0);
    expect(doc.credentials).toHaveLength(3);
    expect(doc.summary.credentials).toBe(3);
    const connector = doc.credentials.filter((c) => c.source === "connector");
    expect(connector.map((c) => c.daysLeft)).toEqual([99]);
    expect(
      doc.credentials
        .filter((c) => c.appId === watchedAppId)
        .map((c) => c.daysLeft)
        .sort(),
    ).toEqual([199, 299]);
  });

  it('with WATCH_APP_IDS="*": the connector\'s app first and once, every other app after it, on one token', async () => {
    const from = sim.requests.length;
    const { code, stdout } = await watchdog(["scan", "--json"], sim.env({ WATCH_APP_IDS: "*" }));
    expect(code).toBe(0);
    const doc = JSON.parse(stdout) as { credentials: { appId: string; source: string }[] };
    const sources = doc.credentials.map((c) => c.source);
    // Read side by side with Nylas, the first page is held until the connector's app is written.
    expect(sources[0]).toBe("connector");
    expect(sources.lastIndexOf("connector")).toBeLessThan(sources.indexOf("watched"));
    const connectorAppId = doc.credentials[0]!.appId;
    expect(
      doc.credentials.filter((c) => c.appId === connectorAppId).every((c) => c.source === "connector"),
    ).toBe(true);
    const everyApp = sim.tenant.appsSnapshot().list.filter((a) => a.passwordCredentials.length > 0);
    expect(new Set(doc.credentials.map((c) => c.appId))).toEqual(new Set(everyApp.map((a) => a.appId)));
    // The page and the connector's app are not read at once, or MSAL would fetch two tokens.
    const tokens = sim.requests.slice(from).filter((r) => r.service === "entra" && r.path.endsWith("/token"));
    expect(tokens).toHaveLength(1);
  });

  it("keeps undici's WebAssembly HTTP parser on V8's baseline tier, so exit never waits on its optimization", async () => {
    // V8 traces each WebAssembly function it compiles, and with which tier, to stdout.
    const { code, stdout } = await runProcess(
      process.execPath,
      ["--trace-wasm-compilation-times", BIN, "scan", "--json"],
      { env: sim.env({ WATCH_APP_IDS: "*" }), cwd: ROOT },
    );
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    const compiled = lines.filter((line) => line.startsWith("Compiled function"));
    // The scan did parse responses with undici (its parser was compiled), and nothing was optimized.
    expect(compiled.filter((line) => line.includes("using Liftoff")).length).toBeGreaterThan(0);
    expect(compiled.filter((line) => line.includes("using TurboFan"))).toEqual([]);
    const doc = JSON.parse(lines.filter((line) => !line.startsWith("Compiled function")).join("\n")) as {
      schema: string;
    };
    expect(doc.schema).toBe("secret-watchdog.scan/v1");
  });

  it("exits 1 when a watched secret is within ALERT_BEFORE_DAYS", async () => {
    const app = sim.tenant.appByAppId(watchedAppId)!;
    const soon = sim.tenant.addSecret(app.id, {
      displayName: "soon",
      endDateTime: new Date(Date.now() + 5 * DAY_MS + 3_600_000),
    });
    try {
      const { code, stdout, stderr } = await watchdog(
        ["scan", "--json"],
        sim.env({ WATCH_APP_IDS: watchedAppId }),
      );
      expect(code).toBe(1);
      const doc = JSON.parse(stdout) as {
        credentials: { keyId: string; daysLeft: number; status: string }[];
      };
      expect(doc.credentials.find((c) => c.keyId === soon.keyId)).toMatchObject({
        daysLeft: 5,
        status: "critical",
      });
      expect(stderr).toMatch(/scan: 2 app\(s\), 4 credential\(s\)/);
    } finally {
      sim.tenant.removePassword(app, soon.keyId);
    }
  });

  it("exits 1 when a watched secret has expired, and prints a readable table without --json", async () => {
    const app = sim.tenant.appByAppId(watchedAppId)!;
    const gone = sim.tenant.addSecret(app.id, {
      displayName: "expired",
      startDateTime: new Date(Date.now() - 400 * DAY_MS),
      endDateTime: new Date(Date.now() - DAY_MS),
    });
    try {
      const { code, stdout } = await watchdog(["scan"], sim.env({ WATCH_APP_IDS: watchedAppId }));
      expect(code).toBe(1);
      const lines = stdout.split("\n");
      const header = lines.findIndex((l) => l.startsWith("APP"));
      // Sorted by days left: the expired one first.
      expect(lines[header + 2]).toMatch(/EXPIRED/);
      expect(stdout).toMatch(/1 expired/);
    } finally {
      sim.tenant.removePassword(app, gone.keyId);
    }
  });
});

describe("bad configuration", () => {
  it("exits 2, names every problem with its fix, and does nothing else", async () => {
    const env = sim.env({
      GRAPH_ENDPOINT: "http://graph.example.com",
      ROTATE_BEFORE_DAYS: "abc",
      WATCHDOG_SCHEDULE: "*/5 * * * *",
    });
    delete (env as Record<string, string | undefined>).NYLAS_API_KEY;
    const before = sim.requests.length;
    const { code, stdout, stderr } = await watchdog(["scan", "--json"], env);
    expect(code).toBe(2);
    // Even a refusal is one JSON document on stdout: automation reads why, not an empty string.
    const doc = JSON.parse(stdout) as { schema: string; exitCode: number; problems: { message: string }[] };
    expect(doc.schema).toBe("secret-watchdog.scan/v1");
    expect(doc.exitCode).toBe(2);
    for (const setting of ["NYLAS_API_KEY", "GRAPH_ENDPOINT", "ROTATE_BEFORE_DAYS", "WATCHDOG_SCHEDULE"]) {
      expect(stderr).toMatch(new RegExp(`- ${setting}: .* Fix: `));
      expect(doc.problems.some((p) => p.message.startsWith(`${setting}:`))).toBe(true);
    }
    expect(stderr).toMatch(/Nothing was done/);
    expect(sim.requests.length).toBe(before);
  });

  it("exits 2 on an unknown command or option, with usage", async () => {
    expect((await watchdog(["scna"], {})).code).toBe(2);
    const bad = await watchdog(["scan", "--jsno"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Usage: watchdog scan/);
    const help = await watchdog(["scan", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit: 0 healthy/);
  });

  it("exits 3 when Nylas refuses the API key", async () => {
    const { code, stderr } = await watchdog(["scan"], sim.env({ NYLAS_API_KEY: "nyk_wrong_key_000" }));
    expect(code).toBe(3);
    expect(stderr).toMatch(/401/);
    expect(stderr).toMatch(/NYLAS_API_URI/);
    expect(stderr).not.toContain("nyk_wrong_key_000");
  });
});
