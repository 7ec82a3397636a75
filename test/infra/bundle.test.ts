/**
 * The deployable Function App (`npm run bundle`, docs/deploy.md "Packaging"):
 * bundled into a directory outside the repository — so nothing can come from
 * node_modules — then loaded the way the Functions worker loads it, by a child
 * (bundle-host.ts) that invokes the triggers against the simulator and Azurite
 * and reports every module file it loaded.
 *
 * The lazy-load contract: the webhook path loads neither @azure/identity (nor
 * MSAL under it) nor the Graph client. esbuild's metafile says which output
 * files contain them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../lib/sim/index.js";
import { startAzurite, type Azurite } from "../helpers/azurite.js";
import { runProcess } from "../helpers/run-process.js";
import type { HostStep } from "./bundle-host.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HOST = fileURLToPath(new URL("./bundle-host.ts", import.meta.url));
const WEBHOOK_SECRET = "bundle-test-webhook-secret-0123456789";

/** Inputs only the Graph path may load (matched against esbuild's input paths and module URLs). */
const GRAPH_ONLY = [
  /node_modules\/@azure\/identity\//,
  /node_modules\/@azure\/msal-node\//,
  /node_modules\/@azure\/msal-common\//,
  /node_modules\/@microsoft\/microsoft-graph-client\//,
];

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

let scratch: string;
let app: string;
let meta: Metafile;
let sim: Simulator;
let azurite: Azurite;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "watchdog-bundle-"));
  app = join(scratch, "app");
  const bundled = spawnSync(process.execPath, ["scripts/bundle.mjs", app], { cwd: ROOT, encoding: "utf8" });
  expect(bundled.stderr).toBe("");
  expect(bundled.status).toBe(0);
  meta = JSON.parse(readFileSync(`${app}-meta.json`, "utf8")) as Metafile;
  [sim, azurite] = await Promise.all([startSimulator(), startAzurite()]);
}, 90_000);

afterAll(async () => {
  await Promise.all([sim?.close(), azurite?.stop()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Absolute file URLs of the output files that contain any input matching `patterns`. */
function outputsContaining(patterns: readonly RegExp[]): Set<string> {
  const out = new Set<string>();
  for (const [file, output] of Object.entries(meta.outputs)) {
    if (Object.keys(output.inputs).some((input) => patterns.some((p) => p.test(input)))) {
      out.add(pathToFileURL(resolve(ROOT, file)).href);
    }
  }
  return out;
}

function settings(): Record<string, string> {
  return sim.env({
    AzureWebJobsStorage: azurite.connectionString,
    NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
}

/** A real signed notification, as Nylas would deliver it. */
function delivery(): string {
  const grant = sim.tenant.nylas.grants[0];
  if (grant === undefined) throw new Error("the simulator has no grant");
  const built = sim.nylas.buildNotification("grant.expired", grant, { webhookSecret: WEBHOOK_SECRET });
  return JSON.stringify({ body: built.body, headers: built.headers });
}

async function runHost(triggers: string[], extraEnv: Record<string, string> = {}): Promise<HostStep[]> {
  const { code, stdout, stderr } = await runProcess(
    process.execPath,
    ["--experimental-strip-types", "--no-warnings", HOST, app, ...triggers],
    // Only the settings, as in Azure: nothing inherited from the test runner.
    { env: { ...settings(), BUNDLE_HOST_NOTIFICATION: delivery(), ...extraEnv }, cwd: scratch },
  );
  try {
    return JSON.parse(stdout) as HostStep[];
  } catch {
    throw new Error(`bundle host exited ${code}:\n${stdout}\n${stderr}`);
  }
}

const step = (steps: HostStep[], name: string): HostStep => {
  const found = steps.find((s) => s.step === name);
  if (found === undefined) throw new Error(`no step ${name}`);
  return found;
};

describe("npm run bundle: the deployable folder", () => {
  it("holds host.json, a package.json whose main matches one ES module per trigger, and no node_modules", () => {
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg).toMatchObject({ type: "module", main: "functions/*.js" });
    expect(pkg.dependencies).toBeUndefined();
    const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: unknown };
    expect(pkg.engines).toEqual(root.engines);
    expect(readFileSync(join(app, "host.json"), "utf8")).toBe(readFileSync(join(ROOT, "host.json"), "utf8"));

    const triggers = readdirSync(join(ROOT, "functions"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => f.replace(/\.ts$/, ".js"));
    expect(readdirSync(join(app, "functions")).sort()).toEqual(triggers.sort());
    expect(readdirSync(app).sort()).toEqual(["chunks", "functions", "host.json", "package.json"]);
    expect(existsSync(join(app, "node_modules"))).toBe(false);
  });

  it("keeps @azure/identity and the Graph client in chunks of their own (the check below can fail)", () => {
    const graphOnly = outputsContaining(GRAPH_ONLY);
    expect(graphOnly.size).toBeGreaterThan(0);
    for (const url of graphOnly) expect(url).toMatch(/\/chunks\//);
  });
});

describe("the bundle, loaded as the Functions worker loads it", () => {
  it("imports the webhook trigger and answers a verified notification without loading identity or Graph", async () => {
    const steps = await runHost(["nylasWebhook"], { BUNDLE_HOST_IMPORT: "nylas-webhook" });
    const webhook = step(steps, "nylasWebhook");
    expect(webhook.error).toBeUndefined();
    expect(webhook.status).toBe(200);
    expect(String(webhook.body)).toContain('"accepted"');

    const loaded = steps.flatMap((s) => s.loaded);
    const graphOnly = outputsContaining(GRAPH_ONLY);
    expect(loaded.filter((url) => graphOnly.has(url))).toEqual([]);
    // Everything came from the folder itself or Node: nothing from a node_modules.
    expect(
      loaded.filter((url) => !url.startsWith("node:") && !url.startsWith(pathToFileURL(app).href)),
    ).toEqual([]);
  });

  it("imports all four triggers lazily, then runs each against the simulator and Table storage", async () => {
    const steps = await runHost(["secretWatchdog", "grantSweep", "nylasWebhook", "health"]);
    const graphOnly = outputsContaining(GRAPH_ONLY);
    // Start-up (what every cold start pays) loads none of the Graph path.
    expect(step(steps, "import").loaded.filter((url) => graphOnly.has(url))).toEqual([]);

    for (const name of ["secretWatchdog", "grantSweep", "nylasWebhook", "health"]) {
      expect(step(steps, name).error, `${name}: ${step(steps, name).logs.join("\n")}`).toBeUndefined();
    }
    // The watchdog pass is what loads them: proof the lazy-load check sees these chunks when loaded.
    expect(step(steps, "secretWatchdog").loaded.filter((url) => graphOnly.has(url)).length).toBeGreaterThan(
      0,
    );
    expect(step(steps, "nylasWebhook").status).toBe(200);

    const health = step(steps, "health");
    expect(health.status).toBe(200);
    const report = health.body as {
      lastRuns: { secretWatchdog: { finishedAt: string } | null; grantSweep: { grants: number } | null };
    };
    expect(report.lastRuns.secretWatchdog?.finishedAt).toMatch(/^\d{4}-/);
    expect(report.lastRuns.grantSweep?.grants).toBe(sim.tenant.nylas.grants.length);
  }, 60_000);

  it("keeps the unbundled tsc output's webhook path light as well (watchdog serve runs it)", async () => {
    const entries = join(ROOT, "dist/functions");
    expect(existsSync(join(entries, "nylas-webhook.js")), "run `npm run build` first").toBe(true);
    const steps = await runHost(["nylasWebhook"], {
      BUNDLE_HOST_IMPORT: "nylas-webhook",
      BUNDLE_HOST_ENTRIES: entries,
    });
    expect(step(steps, "nylasWebhook").status).toBe(200);
    const loaded = steps.flatMap((s) => s.loaded);
    expect(loaded.some((url) => url.includes("/node_modules/@azure/functions/"))).toBe(true);
    expect(loaded.filter((url) => GRAPH_ONLY.some((p) => p.test(url)))).toEqual([]);
  });
});
