/**
 * `watchdog serve` as a user runs it: the CLI (bundled from bin/watchdog.ts
 * with esbuild, so the test runs the current sources without `npm run
 * build`) in a child process against the simulator. It serves the Azure
 * routes, schedules both timers on the schedules their settings hold, and
 * stops cleanly — exit 0, port freed — on SIGTERM and on SIGINT. The timers
 * firing is test/lib/host/serve.test.ts's part: a schedule here may fire at
 * most once a minute, too slow to wait for.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Cron } from "croner";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWatchdog } from "../../helpers/cli.js";
import { secretsIn, startWorld, type World } from "../../helpers/watchdog-world.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const HEALTH_KEY = "test-health-key-0123456789";

let w: World;
let dir: string;
let cli: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  w = await startWorld({ host: false, clock: "system" });
  dir = mkdtempSync(path.join(tmpdir(), "watchdog-cli-"));
  // Bare imports resolve from the bundle's directory: point it at the project's packages.
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  cli = path.join(dir, "watchdog.mjs");
  await build({
    entryPoints: [path.join(ROOT, "bin/watchdog.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: cli,
    logLevel: "error",
  });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await w?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  stdout: () => string;
  exit: Promise<number | null>;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [cli, "serve", "--port", "0", "--health-key", HEALTH_KEY], {
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  children.push(child);
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 15_000);
    child.stderr.on("data", () => {
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exit.then((code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
  });
  return { child, url, stderr: () => stderr, stdout: () => stdout, exit };
}

describe("watchdog serve", () => {
  it("rejects a bad --port with exit 2", async () => {
    const r = await runWatchdog(["serve", "--port", "http"], w.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--port must be a port number");
  });

  it("refuses a schedule that fires more often than once a minute, before listening (exit 2)", async () => {
    const r = await runWatchdog(["serve", "--port", "0"], {
      ...w.env,
      GRANT_SWEEP_SCHEDULE: "*/10 * * * * *",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("GRANT_SWEEP_SCHEDULE");
    expect(r.stderr).toContain("fires more often than once a minute");
    expect(r.stderr).not.toContain("listening on");
  });

  it("serves the routes, schedules both timers from their settings, and stops cleanly on SIGTERM", async () => {
    // Not the defaults ("0 */30 * * * *", "0 0 */6 * * *"): the log must show the settings were read.
    const schedules = { grantSweep: "0 */15 * * * *", watchdog: "0 0 */4 * * *" };
    const started = new Date();
    const s = await serve({
      ...w.env,
      GRANT_SWEEP_SCHEDULE: schedules.grantSweep,
      WATCHDOG_SCHEDULE: schedules.watchdog,
    });
    const challenge = await fetch(`${s.url}/api/nylas/webhook?challenge=from-nylas`);
    expect(challenge.status).toBe(200);
    expect(await challenge.text()).toBe("from-nylas");

    const g = w.grants[0]!;
    g.grant_status = "invalid";
    w.sim.tenant.nylas.touch();
    const built = w.build("grant.expired", g);
    const accepted = await fetch(`${s.url}/api/nylas/webhook`, {
      method: "POST",
      headers: built.headers,
      body: built.body,
    });
    expect(accepted.status).toBe(200);
    expect((await w.incidents()).map((i) => i.key)).toContain(`grant.invalid:${g.id}`);

    const health = await fetch(`${s.url}/api/health`, { headers: { "x-functions-key": HEALTH_KEY } });
    expect(health.status).toBe(200);

    // Both timers are scheduled in the child, each next run one its setting's schedule makes, in UTC.
    for (const [name, schedule] of [
      ["grantSweep", schedules.grantSweep],
      ["secretWatchdog", schedules.watchdog],
    ] as const) {
      const logged = new RegExp(
        `serve: ${name} on "${schedule.replaceAll("*", "\\*")}", next run (\\S+)`,
      ).exec(s.stderr());
      expect(logged, `${name} scheduled in:\n${s.stderr()}`).not.toBeNull();
      const next = new Date(logged![1]!);
      expect(next.getTime()).toBeGreaterThan(started.getTime());
      expect(new Cron(schedule, { paused: true, timezone: "UTC" }).match(next)).toBe(true);
    }

    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    expect(s.stderr()).toContain("SIGTERM, shutting down");
    expect(s.stderr()).toContain("watchdog serve: stopped.");
    await expect(fetch(`${s.url}/api/nylas/webhook?challenge=x`)).rejects.toThrow();
    expect(secretsIn(s.stderr() + s.stdout(), w.secrets)).toEqual([]);
    // A key the operator chose is never echoed; the routes listed are the declared ones.
    expect(s.stderr()).not.toContain(HEALTH_KEY);
    expect(s.stderr()).toMatch(/GET\+POST +http:\S+\/api\/nylas\/webhook +\(anonymous\)/);
    expect(s.stderr()).toMatch(/GET +http:\S+\/api\/health +\(x-functions-key: the --health-key given\)/);
    // Loading the triggers outside Azure stays quiet.
    expect(s.stderr()).not.toMatch(/"@azure\/functions" package/);
  });

  it("stops cleanly on SIGINT (Ctrl-C)", async () => {
    const s = await serve(w.env);
    expect((await fetch(`${s.url}/api/nylas/webhook?challenge=1`)).status).toBe(200);
    s.child.kill("SIGINT");
    expect(await s.exit).toBe(0);
    expect(s.stderr()).toContain("SIGINT, shutting down");
    expect(s.stderr()).toContain("watchdog serve: stopped.");
  });
});
