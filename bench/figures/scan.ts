/**
 * `watchdog scan --json` at two tenant sizes as a user runs it — the bundled
 * CLI, a whole process, its JSON to /dev/null — beside a bare Node script doing
 * the same requests and writing the same bytes; and the peak RSS growth from
 * the smaller tenant to the larger, run by run.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { CREDENTIAL_SELECT } from "../../lib/clients/graph.js";
import { DAY_MS } from "../../lib/clock.js";
import type { Simulator } from "../../lib/sim/index.js";
import {
  CLI,
  IMPORT_CHILD,
  ROOT,
  SCAN_FLOOR,
  SCAN_FLOOR_SDK,
  SIZES,
  log,
  mib,
  runChild,
  runProcess,
  scratch,
  thousands,
  type ProcessRun,
} from "../harness.js";
import { median, type Figure } from "../table.js";

/** Apps with 1 or 2 secrets whose expiries cover every status (expired … ok). */
function addApps(sim: Simulator, count: number): void {
  const now = Date.now();
  const start = sim.tenant.apps.size;
  for (let i = start; i < start + count; i++) {
    const app = sim.tenant.addApp({ displayName: `bench app ${i}` }, { servicePrincipal: false });
    sim.tenant.addSecret(app.id, {
      displayName: "primary",
      endDateTime: new Date(now + ((i % 400) - 30) * DAY_MS),
    });
    if (i % 2 === 1)
      sim.tenant.addSecret(app.id, { displayName: "next", endDateTime: new Date(now + 700 * DAY_MS) });
  }
}

interface SizeRuns {
  apps: number;
  jsonBytes: number;
  product: ProcessRun[];
  floor: ProcessRun[];
  /** bench/scan-floor-sdk.ts: the floor's requests through the stack's SDKs. */
  sdkFloor: ProcessRun[];
  /** The same runs with V8's default young generation (`V8_DEFAULT_YOUNG`): what the CLI's cap saves. */
  v8Default: { product: ProcessRun[]; floor: ProcessRun[] };
}

/**
 * V8's default young generation here, 16 MiB a semi-space, asked for explicitly: the CLI then
 * leaves it alone instead of capping it at 8 (lib/cli/young-generation.ts), so these runs show the
 * growth the cap saves. The bare floor has no cap: for it this is the default, run once more.
 */
const V8_DEFAULT_YOUNG = "--max-semi-space-size=16";

const appsRead = (run: ProcessRun) => Number(/scan: (\d+) app\(s\)/.exec(run.stderr)?.[1] ?? NaN);

function checkScan(run: ProcessRun): ProcessRun {
  // 1: some credential needs attention, which this tenant is seeded to have.
  if (run.exitCode !== 0 && run.exitCode !== 1)
    throw new Error(`scan exited ${run.exitCode}:\n${run.stderr}`);
  return run;
}

async function scanAt(sim: Simulator, apps: number, withV8Default: boolean): Promise<SizeRuns> {
  const env = sim.env({ WATCH_APP_IDS: "*", WATCHDOG_STATE_DIR: join(scratch, "scan-state") });
  const scan = [CLI, "scan", "--json"];
  // One unmeasured round: the page cache, and the number of bytes the floor must write.
  const first = checkScan(await runProcess(scan, env, { stdout: "count", probe: false }));
  const floorEnv = {
    ...env,
    BENCH_SELECT: CREDENTIAL_SELECT.join(","),
    BENCH_JSON_BYTES: String(first.stdoutBytes),
  };
  for (const floorFile of [SCAN_FLOOR, SCAN_FLOOR_SDK]) {
    const check = await runProcess([floorFile], floorEnv, { stdout: "count", probe: false });
    if (check.exitCode !== 0) throw new Error(`${floorFile} failed:\n${check.stderr}`);
    if (appsRead(first) !== appsRead(check) || check.stdoutBytes !== first.stdoutBytes) {
      throw new Error(
        `scan read ${appsRead(first)} apps and wrote ${first.stdoutBytes} B; ${floorFile} ${appsRead(check)} and ${check.stdoutBytes} B`,
      );
    }
  }
  log(
    `scan: ${apps.toLocaleString("en-US")} apps, ${first.stdoutBytes.toLocaleString("en-US")} B of JSON, ${SIZES.runs} run(s) per side`,
  );
  const product: ProcessRun[] = [];
  const floor: ProcessRun[] = [];
  const sdkFloor: ProcessRun[] = [];
  const v8Default = { product: [] as ProcessRun[], floor: [] as ProcessRun[] };
  const measured = { stdout: "ignore", probe: true } as const;
  for (let run = 0; run < SIZES.runs; run++) {
    floor.push(await runProcess([SCAN_FLOOR], floorEnv, measured));
    product.push(checkScan(await runProcess(scan, env, measured)));
    sdkFloor.push(await runProcess([SCAN_FLOOR_SDK], floorEnv, measured));
    if (!withV8Default) continue;
    v8Default.floor.push(await runProcess([V8_DEFAULT_YOUNG, SCAN_FLOOR], floorEnv, measured));
    v8Default.product.push(checkScan(await runProcess([V8_DEFAULT_YOUNG, ...scan], env, measured)));
  }
  return { apps, jsonBytes: first.stdoutBytes, product, floor, sdkFloor, v8Default };
}

const spread = (values: number[], format: (v: number) => string) =>
  `min ${format(Math.min(...values))}, max ${format(Math.max(...values))}`;

/** Run i at the larger size over run i at the smaller: one ratio per run. */
const growthOf = (small: ProcessRun[], large: ProcessRun[]) =>
  large.map((run, i) => run.maxRssKiB / (small[i]?.maxRssKiB ?? NaN));

function growthRows(a: SizeRuns, b: SizeRuns): Figure[] {
  const product = growthOf(a.product, b.product);
  const floor = growthOf(a.floor, b.floor);
  const name = `scan: peak RSS growth ${thousands(a.apps)} → ${thousands(b.apps)} apps`;
  const note = `peak RSS (getrusage, via bench/rss-probe.ts) of run i at ${thousands(b.apps)} over run i at ${thousands(a.apps)}, ${SIZES.runs} runs; floor = the bare script's growth`;
  const stat = (label: string, pick: (v: number[]) => number, goal: Figure["goal"]): Figure => ({
    name: `${name}, ${label} of ${SIZES.runs}`,
    unit: "×",
    measured: pick(product),
    floor: pick(floor),
    goal,
    note,
  });
  return [
    stat("min", (v) => Math.min(...v), null),
    stat("median", median, null),
    stat("max", (v) => Math.max(...v), { kind: "max", value: 1.15, label: "≤ 1.15× (every run)" }),
    {
      name: `${name}, V8's default young generation, max of ${SIZES.runs}`,
      unit: "×",
      measured: Math.max(...growthOf(a.v8Default.product, b.v8Default.product)),
      floor: Math.max(...growthOf(a.v8Default.floor, b.v8Default.floor)),
      goal: null,
      note: `as above, both sides started with ${V8_DEFAULT_YOUNG} (V8's default here), which the CLI leaves as it is instead of capping the young generation at 8 MiB a semi-space (lib/cli/young-generation.ts), ${SIZES.runs} runs of their own alternating with the others: the growth without that cap`,
    },
  ];
}

/** The median of whole-process runs, in seconds. */
const wholeSeconds = (runs: ProcessRun[]) => median(runs.map((r) => r.ms)) / 1000;

const sizeName = (runs: SizeRuns, base: SizeRuns) =>
  runs === base ? `the base tenant (${runs.apps} apps)` : `${thousands(runs.apps)} apps`;

/**
 * Per size, the floor on the stack's SDKs beside the bare floor (what the stack alone costs a scan),
 * and the product beside it (what the product adds on top of the stack: the connector's evidence,
 * the checks, the report, and its own code's loading).
 */
function sdkFloorRows(sizes: SizeRuns[]): Figure[] {
  const [base] = sizes;
  if (base === undefined) return [];
  return sizes.flatMap((size) => [
    {
      name: `scan floor on the stack's SDKs, ${sizeName(size, base)}: whole process`,
      unit: "s",
      measured: wholeSeconds(size.sdkFloor),
      floor: wholeSeconds(size.floor),
      goal: null,
      note: `median of ${SIZES.runs}, alternating with the runs above: bench/scan-floor-sdk.ts (bundled with the CLI's esbuild options), the bare floor's requests and bytes with the token from @azure/identity's ClientSecretCredential and the pages through the Microsoft Graph SDK's client; floor = the bare floor. What the stack alone costs a scan`,
    },
    {
      name: `scan --json, ${sizeName(size, base)}: against the floor on the stack's SDKs`,
      unit: "s",
      measured: wholeSeconds(size.product),
      floor: wholeSeconds(size.sdkFloor),
      goal: null,
      note: `the same medians: the product over the floor on the stack's SDKs, i.e. what the product does beyond a token and the pages (the connector's evidence from Nylas and Graph, the checks of every answer, the report, its own code's loading)`,
    },
  ]);
}

/** The SDKs the stack fixes for a scan (token, Graph paging, the connector's evidence): none in the floor. */
const SCAN_SDKS = ["@azure/identity", "@microsoft/microsoft-graph-client", "nylas"];

/**
 * The CLI bundle's chunks that hold those SDKs, imported in a fresh process as `scan` imports them
 * (their shared chunks come along): the fixed cost of a scan the bare floor does not pay.
 */
async function sdkImport(): Promise<Figure> {
  const meta = JSON.parse(readFileSync(join(ROOT, "dist/cli-meta.json"), "utf8")) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const chunks = Object.entries(meta.outputs)
    .filter(([, o]) =>
      Object.keys(o.inputs).some((i) => SCAN_SDKS.some((p) => i.includes(`node_modules/${p}/`))),
    )
    .map(([file]) => join(ROOT, file));
  const times: number[] = [];
  // With Node's compile cache, as the CLI keeps it (bin/watchdog.ts); round 0 fills it, unmeasured.
  // Node's undici is loaded before the clock starts (importing node:http loads it): the floor's
  // `fetch` loads it too, so it is no part of what the SDKs add.
  const cache = {
    NODE_COMPILE_CACHE: join(scratch, "sdk-import-compile-cache"),
    BENCH_PRELOAD: "node:http",
  };
  for (let round = 0; round <= SIZES.runs; round++) {
    const { report } = await runChild([IMPORT_CHILD, ...chunks], cache);
    if (round > 0) times.push(report.ms);
  }
  return {
    name: "scan: importing the SDKs it uses (bundle chunks, fresh process)",
    unit: "ms",
    measured: median(times),
    floor: null,
    goal: null,
    note: `median of ${SIZES.runs}: the ${chunks.length} chunks of dist/cli holding ${SCAN_SDKS.join(", ")}, imported by bench/import-child.ts with Node's compile cache as the CLI keeps it, after Node's undici (which the floor's fetch loads too); a fixed cost of every scan, which the floor (no SDK) does not pay`,
  };
}

export async function scans(sim: Simulator): Promise<Figure[]> {
  // Listing every app needs a read-all permission (OwnedBy covers only the apps it owns).
  sim.tenant.grantAppRole(sim.watchdog.servicePrincipalId, "Application.Read.All");
  // The base tenant, before any bench app (the connector's app and the watchdog's own): what a scan
  // costs whatever the tenant's size, so that what the apps add can be told apart from it.
  const base = await scanAt(sim, sim.tenant.apps.size, false);
  const results: SizeRuns[] = [];
  for (const apps of SIZES.apps) {
    const t = performance.now();
    addApps(sim, apps - sim.tenant.apps.size);
    log(
      `seeded ${sim.tenant.apps.size.toLocaleString("en-US")} apps in ${Math.round(performance.now() - t)} ms`,
    );
    results.push(await scanAt(sim, apps, true));
  }
  const figures: Figure[] = results.map(({ apps, jsonBytes, product, floor }) => ({
    name: `scan --json, ${thousands(apps)} apps: whole process`,
    unit: "s",
    measured: wholeSeconds(product),
    floor: wholeSeconds(floor),
    goal: { kind: "ratio-max", value: 1.3 },
    note: `median of ${SIZES.runs}: \`node dist/cli/watchdog.js scan --json > /dev/null\` (the bundle), timed from spawn to exit; floor = bench/scan-floor.ts, bare Node without SDKs (with the CLI's V8 tiering setting, lib/cli/v8-tiering.ts): one token, the same /applications pages ($select, $top=999), the same bytes of JSON (${(jsonBytes / 2 ** 20).toFixed(1)} MiB at ${thousands(apps)})`,
  }));
  figures.push({
    name: `scan --json, the base tenant (${base.apps} apps): whole process`,
    unit: "s",
    measured: wholeSeconds(base.product),
    floor: wholeSeconds(base.floor),
    goal: null,
    note: `median of ${SIZES.runs}, as above, before any bench app is added: the connector's app and the watchdog's own. What every scan pays whatever the tenant's size: start-up, the SDKs, the token, the connector's evidence (Nylas, the connector's app, its sign-in report) and exit`,
  });
  figures.push(...sdkFloorRows([base, ...results]));
  for (const { apps, product, floor } of results) {
    figures.push({
      name: `scan --json: what ${thousands(apps)} apps add to the base tenant's time`,
      unit: "s",
      measured: wholeSeconds(product) - wholeSeconds(base.product),
      floor: wholeSeconds(floor) - wholeSeconds(base.floor),
      goal: null,
      note: `the median at ${thousands(apps)} apps less the base tenant's, each side: the time that grows with the tenant (paging, validation, classification, the JSON out)`,
    });
  }
  for (const { apps, product, floor } of results) {
    const rss = product.map((r) => mib(r.maxRssKiB));
    figures.push({
      name: `scan --json, ${thousands(apps)} apps: peak RSS`,
      unit: "MiB",
      measured: median(rss),
      floor: median(floor.map((r) => mib(r.maxRssKiB))),
      goal: null,
      note: `median of the same runs (${spread(rss, (v) => `${v.toFixed(1)} MiB`)} at ${thousands(apps)})`,
    });
  }
  const [a, b] = results;
  if (a !== undefined && b !== undefined) figures.push(...growthRows(a, b));
  figures.push(await sdkImport());
  return figures;
}
