/**
 * An acceptance-test world: the simulator (Entra, Graph, Nylas, alert sinks),
 * a temp state directory, the product's deps built from `loadConfig(env)` like
 * a deployment builds them, and — unless asked not to — the local host
 * (`startHost`) serving the very functions Azure runs. Nylas webhook
 * deliveries from the simulator go to that host.
 *
 * Every secret the settings hold is listed in `secrets`, and `captured()`
 * returns everything the product said or wrote (log lines, sink requests,
 * state files) so tests can scan it.
 */
import { readTree } from "./read-tree.js";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { ManualClock, type Clock } from "../../lib/clock.js";
import { loadConfig, type Config } from "../../lib/config.js";
import { createDeps, type Deps } from "../../lib/deps.js";
import type { Logger } from "../../lib/logger.js";
import { invocationLogger, setRuntimeDeps } from "../../lib/runtime.js";
import { startHost, type RunningHost } from "../../lib/host/serve.js";
import { loadTriggers } from "../../bin/triggers.js";
import { FileStateStore } from "../../lib/state/file-store.js";
import type { StateStore } from "../../lib/state/store.js";
import type { Incident } from "../../lib/incidents/incident.js";
import {
  startSimulator,
  type BuiltNotification,
  type GrantNotificationType,
  type SimGrant,
  type Simulator,
  type SimWebhook,
  type SeedOptions,
} from "../../lib/sim/index.js";

export interface CapturingLogger extends Logger {
  lines: string[];
}

export function capturingLogger(): CapturingLogger {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      void lines.push(
        `${level} ${[message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(" ")}`,
      );
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export interface WorldOptions {
  /** Default: a ManualClock. Pass `"system"` for wall-clock tests (hung sinks). */
  clock?: ManualClock | "system";
  /** Extra or overriding settings; a value of "" removes the setting. */
  env?: Record<string, string>;
  /** Start the local host (default true). */
  host?: boolean;
  /** Run the host's timers (default false: tests call the passes). */
  timers?: boolean;
  seed?: false | SeedOptions;
  /** Wraps the state store the product uses (e.g. to make it fail for a while). */
  wrapState?: (store: StateStore) => StateStore;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  ms: number;
}

export interface World {
  sim: Simulator;
  clock: Clock;
  manualClock: ManualClock | undefined;
  stateDir: string;
  env: Record<string, string>;
  config: Config;
  deps: Deps;
  /** Log lines: the host's, and (through the InvocationContext) every line of the product's code. */
  logs: CapturingLogger;
  host: RunningHost | undefined;
  /** `<host>/api/nylas/webhook` */
  webhookUrl: string;
  /** The Nylas webhook destination (its `webhook_secret` is NYLAS_WEBHOOK_SECRET). */
  webhook: SimWebhook;
  /** Named secret values from the settings, for scans. */
  secrets: Record<string, string>;
  /** Microsoft grants seeded in Nylas. */
  grants: SimGrant[];
  /** A signed notification as Nylas would send it. */
  build(type: GrantNotificationType, grant: SimGrant, options?: { id?: string }): BuiltNotification;
  /** POSTs to the webhook endpoint with fetch. */
  post(body: string | Buffer, headers: Record<string, string>, method?: string): Promise<HttpResult>;
  /** Sends a built notification to the webhook endpoint. */
  deliver(built: BuiltNotification): Promise<HttpResult>;
  /** Every incident in state. */
  incidents(): Promise<Incident[]>;
  /** Every file under the state directory, path → content. */
  stateFiles(): Map<string, string>;
  close(): Promise<void>;
}

const SLACK_TOKEN = () => `slk${randomBytes(12).toString("hex")}`;

/** Starts the simulator, builds the deps from its settings, and starts the host. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const manualClock = options.clock === "system" ? undefined : (options.clock ?? new ManualClock());
  const sim = await startSimulator({
    ...(manualClock ? { clock: manualClock } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const clock = sim.clock;
  const stateDir = mkdtempSync(path.join(tmpdir(), "watchdog-accept-"));
  const webhookSecret = `nws_${randomBytes(20).toString("hex")}`;
  // A placeholder URL until the host listens (its port is chosen by the OS).
  const webhook = sim.tenant.nylas.addWebhook({
    webhook_url: "http://127.0.0.1:9/api/nylas/webhook",
    webhook_secret: webhookSecret,
  });

  const slackToken = SLACK_TOKEN();
  const teamsSig = `tms${randomBytes(12).toString("hex")}`;
  const webhookToken = `whk${randomBytes(12).toString("hex")}`;
  const alertSecret = `aws_${randomBytes(16).toString("hex")}`;
  const routingKey = randomBytes(16).toString("hex").toUpperCase();
  const base = sim.urls.sinks;
  const env: Record<string, string> = sim.env({
    NYLAS_WEBHOOK_SECRET: webhookSecret,
    NYLAS_CLIENT_ID: sim.tenant.nylas.applicationId,
    REAUTH_REDIRECT_URI: sim.tenant.nylas.callbackUris[0]!,
    ALERT_WEBHOOK_URL: `${base}/webhook/${webhookToken}`,
    ALERT_WEBHOOK_SECRET: alertSecret,
    SLACK_WEBHOOK_URL: `${base}/slack/services/T0SIM0001/B0SIM0001/${slackToken}`,
    TEAMS_WEBHOOK_URL: `${base}/teams/workflows/wf1/triggers/manual/paths/invoke?api-version=1&sig=${teamsSig}`,
    PAGERDUTY_ROUTING_KEY: routingKey,
    PAGERDUTY_EVENTS_URL: `${base}/pagerduty/v2/enqueue`,
    WATCHDOG_STATE_DIR: stateDir,
    ROTATION: "off",
  });
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === "") delete env[name];
    else env[name] = value;
  }
  const config = loadConfig(env);
  const logs = capturingLogger();
  // As `watchdog serve` builds them: the product logs through the invocation's context.
  const wrap = options.wrapState;
  const deps = createDeps(config, invocationLogger(), {
    ...(manualClock ? { clock: manualClock } : {}),
    ...(wrap ? { store: () => Promise.resolve(wrap(new FileStateStore(stateDir))) } : {}),
  });

  let host: RunningHost | undefined;
  let webhookUrl = "";
  if (options.host !== false) {
    host = await startHost({
      port: 0,
      deps,
      logger: logs,
      timers: options.timers ?? false,
      triggers: await loadTriggers(),
    });
    webhookUrl = `${host.url}/api/nylas/webhook`;
    webhook.webhook_url = webhookUrl;
  } else {
    setRuntimeDeps(deps, logs);
  }

  const secrets: Record<string, string> = {
    NYLAS_API_KEY: env.NYLAS_API_KEY!,
    NYLAS_WEBHOOK_SECRET: webhookSecret,
    ALERT_WEBHOOK_SECRET: alertSecret,
    PAGERDUTY_ROUTING_KEY: routingKey,
    SLACK_URL_TOKEN: slackToken,
    TEAMS_URL_SIG: teamsSig,
    ALERT_WEBHOOK_URL_TOKEN: webhookToken,
    AZURE_CLIENT_SECRET: env.AZURE_CLIENT_SECRET!,
  };
  const connectorSecret = sim.tenant.nylas.connector?.settings.client_secret;
  if (typeof connectorSecret === "string") secrets.CONNECTOR_CLIENT_SECRET = connectorSecret;

  const post = async (body: string | Buffer, headers: Record<string, string>, method = "POST") => {
    const started = performance.now();
    const res = await fetch(webhookUrl, { method, headers, body: method === "GET" ? undefined : body });
    const text = await res.text();
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => (out[k] = v));
    return { status: res.status, headers: out, text, ms: performance.now() - started };
  };

  const world: World = {
    sim,
    clock,
    manualClock,
    stateDir,
    env,
    config,
    deps,
    logs,
    host,
    webhookUrl,
    webhook,
    secrets,
    grants: sim.tenant.nylas.grants.filter((g) => g.provider === "microsoft"),
    build: (type, grant, opts = {}) =>
      sim.nylas.buildNotification(type, grant, { webhookSecret, ...(opts.id ? { id: opts.id } : {}) }),
    post,
    deliver: (built) => post(built.body, built.headers),
    async incidents() {
      const store = await deps.store();
      const out: Incident[] = [];
      for await (const item of store.list<{ incident: Incident }>("incidents")) out.push(item.value.incident);
      return out;
    },
    stateFiles: () => readTree(stateDir),
    async close() {
      await host?.close();
      if (!host) setRuntimeDeps(undefined);
      await sim.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return world;
}

export { readTree };

/**
 * A raw HTTP/1.1 request with node:http, for what fetch will not send:
 * duplicate headers, a chunked body of any size, a lying content-length.
 * Resolves with the response, or with status 0 and the error when the
 * connection ended without one.
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    /** Raw header pairs, duplicates allowed. */
    headers?: [string, string][];
    /** Written as-is, in these chunks (no content-length unless given: chunked). */
    chunks?: (string | Buffer)[];
  },
): Promise<HttpResult & { error?: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const u = new URL(url);
    // An array of raw pairs keeps duplicates; Node then adds no Host header itself.
    const flat = [["host", u.host], ...(options.headers ?? [])].flat();
    const req = httpRequest({
      host: u.hostname,
      port: u.port,
      path: `${u.pathname}${u.search}`,
      method: options.method ?? "POST",
      headers: flat as unknown as OutgoingHttpHeaders,
    });
    let done = false;
    const finish = (result: HttpResult & { error?: string }) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      const end = () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers[k] = v;
        finish({
          status: res.statusCode ?? 0,
          headers,
          text: Buffer.concat(chunks).toString("utf8"),
          ms: performance.now() - started,
        });
      };
      res.on("end", end);
      res.on("error", end);
      res.on("close", end);
    });
    req.on("error", (error) =>
      finish({ status: 0, headers: {}, text: "", ms: performance.now() - started, error: error.message }),
    );
    const write = async () => {
      for (const chunk of options.chunks ?? []) {
        if (done || req.destroyed) return;
        if (!req.write(chunk)) await new Promise<void>((r) => req.once("drain", () => r()));
      }
      req.end();
    };
    void write().catch(() => undefined);
  });
}

/** Every occurrence of a named secret in `text`, as "<name>". */
export function secretsIn(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => value.length >= 6 && text.includes(value))
    .map(([name]) => name);
}
