/**
 * A whole world for a test: the simulator (real SDKs over HTTPS), a manual
 * clock both sides share, a temp state directory, alert sinks pointed at the
 * simulator's receivers, and every log line captured (for secret scans).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { readTree } from "./read-tree.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, type SeedOptions, type Simulator } from "../../lib/sim/index.js";
import { ManualClock } from "../../lib/clock.js";
import { loadConfig } from "../../lib/config.js";
import { createDeps, type Deps, type DepsOverrides } from "../../lib/deps.js";
import type { Logger } from "../../lib/logger.js";
import { runWatchdogPass, type PassOptions, type WatchdogPassResult } from "../../lib/watchdog-pass.js";

export interface World {
  sim: Simulator;
  clock: ManualClock;
  stateDir: string;
  logs: string[];
  env: Record<string, string>;
  /** Fresh deps, as a new timer invocation would get (new credential, new clients). */
  deps(extraEnv?: Record<string, string>, overrides?: DepsOverrides): Deps;
  pass(
    options?: PassOptions,
    extraEnv?: Record<string, string>,
    overrides?: DepsOverrides,
  ): Promise<WatchdogPassResult>;
  /** Every file under the state directory, concatenated. */
  stateText(): string;
  close(): Promise<void>;
}

export const PAGERDUTY_KEY = "0123456789abcdef0123456789abcdef";
export const ALERT_SECRET = "alert-signing-secret-1234567890";

export async function startWorld(
  options: {
    propagationDelayMs?: number;
    seed?: SeedOptions | false;
    env?: Record<string, string>;
    start?: Date;
  } = {},
): Promise<World> {
  const clock = new ManualClock(options.start ?? new Date("2026-11-23T12:00:00Z"));
  const sim = await startSimulator({
    clock,
    propagationDelayMs: options.propagationDelayMs ?? 0,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const stateDir = mkdtempSync(join(tmpdir(), "watchdog-world-"));
  const logs: string[] = [];
  const logger: Logger = {
    debug: (m) => logs.push(`debug ${m}`),
    info: (m) => logs.push(`info ${m}`),
    warn: (m) => logs.push(`warn ${m}`),
    error: (m) => logs.push(`error ${m}`),
  };
  const sinks = sim.urls.sinks;
  const env = sim.env({
    WATCHDOG_STATE_DIR: stateDir,
    NYLAS_CLIENT_ID: sim.tenant.nylas.applicationId,
    REAUTH_REDIRECT_URI: sim.tenant.nylas.callbackUris[0] ?? "https://app.example.com/callback",
    ALERT_WEBHOOK_URL: `${sinks}/webhook/alerts`,
    ALERT_WEBHOOK_SECRET: ALERT_SECRET,
    SLACK_WEBHOOK_URL: `${sinks}/slack/T000/B000/slacktoken123456`,
    TEAMS_WEBHOOK_URL: `${sinks}/teams/workflows/teamstoken123456`,
    PAGERDUTY_ROUTING_KEY: PAGERDUTY_KEY,
    PAGERDUTY_EVENTS_URL: `${sinks}/pagerduty/v2/enqueue`,
    PROPAGATION_TIMEOUT_SECONDS: "240",
    ...options.env,
  });
  const deps = (extraEnv: Record<string, string> = {}, overrides: DepsOverrides = {}) =>
    createDeps(loadConfig({ ...env, ...extraEnv }), logger, { clock, ...overrides });
  return {
    sim,
    clock,
    stateDir,
    logs,
    env,
    deps,
    pass: (passOptions = {}, extraEnv = {}, overrides = {}) =>
      runWatchdogPass(deps(extraEnv, overrides), passOptions),
    stateText() {
      return [...readTree(stateDir).values()].join("\n");
    },
    async close() {
      await sim.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
