/**
 * Another tenant for a chapter that must leave Contoso's alone: its own
 * simulator (Entra, Graph, Nylas, alert sinks) on the story's clock, a
 * Function App's settings pointing at it, and temp state directories that are
 * removed at close. Alerts go to this simulator's sinks, so Contoso's totals
 * stay Contoso's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config.js";
import { createDeps, type Deps } from "../deps.js";
import {
  startSimulator,
  type SeedOptions,
  type SimApp,
  type Simulator,
  type SinkReceipt,
} from "../sim/index.js";
import type { StoryContext } from "./story-context.js";

export interface ChapterTenant {
  sim: Simulator;
  /** The app registration behind the Nylas connector. */
  app: () => SimApp;
  /** The Function App's settings (state in `stateDir`). */
  env: Record<string, string>;
  stateDir: string;
  /** Fresh deps, as a new invocation would get; `extraEnv` overrides settings (e.g. WATCHDOG_STATE_DIR). */
  deps: (extraEnv?: Record<string, string>) => Deps;
  /** A further state directory (another installation), removed at close. */
  newStateDir: () => string;
  /** `text` with this tenant's state directories (temp paths) shown as $WATCHDOG_STATE_DIR. */
  redact: (text: string) => string;
  /** Alert deliveries since the last call. */
  newAlerts: () => SinkReceipt[];
  close: () => Promise<void>;
}

export async function startChapterTenant(
  ctx: StoryContext,
  options: { name: string; seed: SeedOptions; propagationDelayMs?: number },
): Promise<ChapterTenant> {
  const sim = await startSimulator({
    clock: ctx.clock,
    propagationDelayMs: options.propagationDelayMs ?? 45_000,
    seed: options.seed,
  });
  const dirs: string[] = [];
  const newStateDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "watchdog-sandbox-"));
    dirs.push(dir);
    return dir;
  };
  const nylasApp = sim.nylasApp!;
  nylasApp.displayName = options.name;
  // A work-or-school-only app: no two-secret cap.
  nylasApp.signInAudience = "AzureADMultipleOrgs";
  const stateDir = newStateDir();
  const sinks = sim.urls.sinks;
  const env = sim.env({
    WATCHDOG_STATE_DIR: stateDir,
    NYLAS_CLIENT_ID: sim.tenant.nylas.applicationId,
    REAUTH_REDIRECT_URI: sim.tenant.nylas.callbackUris[0] ?? "https://app.example.com/nylas/callback",
    ALERT_WEBHOOK_URL: `${sinks}/webhook/sandbox`,
    ALERT_WEBHOOK_SECRET: "sandbox-alert-signing-secret",
    SLACK_WEBHOOK_URL: `${sinks}/slack/T0SANDBOX/B0SANDBOX/sandboxslacktoken`,
  });
  let seen = 0;
  return {
    sim,
    app: () => sim.tenant.appByAppId(nylasApp.appId)!,
    env,
    stateDir,
    deps: (extraEnv = {}) =>
      createDeps(loadConfig({ ...env, ...extraEnv }), ctx.logger, { clock: ctx.clock }),
    newStateDir,
    redact: (text) => dirs.reduce((t, dir) => t.replaceAll(dir, "$WATCHDOG_STATE_DIR"), text),
    newAlerts: () => {
      const fresh = sim.sinks.received.slice(seen);
      seen = sim.sinks.received.length;
      return fresh;
    },
    close: async () => {
      await sim.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Graph secret writes and Nylas writes, from the simulator's request log. */
export function writeCount(sim: Simulator): number {
  return sim.requests.filter(
    (r) =>
      (r.service === "graph" && r.method === "POST" && /\/(add|remove)Password$/.test(r.path)) ||
      (r.service === "nylas" && r.method !== "GET"),
  ).length;
}
