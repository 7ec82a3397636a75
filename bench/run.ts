/**
 * `npm run bench`: each figure measured in one run beside its floor — the
 * least code that does the same I/O — with the ratio and the goal.
 *
 *   npm run bench                 # prints the table, writes dist/bench/results.json (--only, --quick: results-partial.json)
 *   npm run bench -- --write      # also rewrites bench/RESULTS.md (table + machine)
 *   npm run bench -- --quick      # small sizes, short runs: a smoke run, not figures
 *   npm run bench -- --only=scan,alert   # some groups only (start, cold, serve, slash, scan, sweep, alert, store, rotation)
 *   npm run bench -- --rewrite    # bench/RESULTS.md again from dist/bench/results.json: new prose, the same figures
 *
 * The simulator runs in this process; every measured side (product and floor)
 * runs in its own child process, so each peak RSS is that process's alone.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startSimulator } from "../lib/sim/index.js";
import { alertLatency } from "./figures/alert-latency.js";
import { cliStart } from "./figures/cli-start.js";
import { coldStart } from "./figures/cold-start.js";
import { rotation } from "./figures/rotation.js";
import { scans } from "./figures/scan.js";
import { serve } from "./figures/serve.js";
import { slashStall } from "./figures/slash-stall.js";
import { storeCeiling } from "./figures/store-ceiling.js";
import { sweep } from "./figures/sweep.js";
import { CLI, QUICK, ROOT, argv, log, scratch } from "./harness.js";
import { machine, resultsMarkdown } from "./results-markdown.js";
import { formatTable, type Figure } from "./table.js";

const ONLY = [...argv]
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");

const RESULTS_JSON = join(ROOT, "dist/bench/results.json");
/**
 * Where an --only or --quick run saves its figures: beside, not over, the last full run's, which
 * `--rewrite` renders RESULTS.md from (an A/B of one group after a full run used to cost them).
 */
const PARTIAL_JSON = join(ROOT, "dist/bench/results-partial.json");

/**
 * Renders bench/RESULTS.md from the figures of the last full run, measuring nothing: for a change
 * to its prose after a run, so the file still shows figures taken in one run.
 */
function rewrite(): void {
  if (!existsSync(RESULTS_JSON))
    throw new Error(
      `--rewrite: ${RESULTS_JSON} is missing; run \`npm run bench\` first (it saves the figures there).`,
    );
  const saved = JSON.parse(readFileSync(RESULTS_JSON, "utf8"), (_k, v: unknown) =>
    v === "Infinity" ? Infinity : v,
  ) as {
    machine: Record<string, string>;
    seconds: number;
    quick: boolean;
    only?: string[] | null;
    figures: Figure[];
  };
  if (saved.quick) throw new Error(`${RESULTS_JSON} is from a --quick run: quick runs are not figures`);
  if (saved.only != null)
    throw new Error(`${RESULTS_JSON} is from an --only run: RESULTS.md holds every figure`);
  writeFileSync(join(ROOT, "bench/RESULTS.md"), resultsMarkdown(saved.figures, saved.machine, saved.seconds));
  log(
    `rewrote bench/RESULTS.md from ${RESULTS_JSON} (${saved.figures.length} figures, ${saved.machine.date})`,
  );
}

async function main(): Promise<void> {
  if (argv.has("--rewrite")) return rewrite();
  if (!existsSync(CLI)) {
    throw new Error(
      `${CLI} is missing: the whole-process figures run the bundled CLI. Run \`node scripts/bundle-cli.mjs\` (npm run build does).`,
    );
  }
  const started = performance.now();
  const figures: Figure[] = [];
  const take = async (group: string, measure: () => Promise<Figure[]>) => {
    if (ONLY === undefined || ONLY.includes(group)) figures.push(...(await measure()));
  };
  await take("start", cliStart);
  await take("cold", coldStart);

  const sim = await startSimulator({ recordRequests: false });
  try {
    await take("serve", () => serve(sim));
    await take("slash", () => slashStall(sim));
    await take("scan", () => scans(sim));
    await take("sweep", () => sweep(sim));
    await take("alert", () => alertLatency(sim));
    await take("store", () => storeCeiling(sim));
  } finally {
    await sim.close();
  }
  await take("rotation", rotation);

  const seconds = (performance.now() - started) / 1000;
  const host = machine();
  process.stdout.write(
    `\n${formatTable(figures)}\n\n${host.cpus} × ${host.model}, ${host.memory}, Node ${host.node}, ${host.date}; ${Math.round(seconds)} s${QUICK ? " (--quick: not figures)" : ""}\n`,
  );
  mkdirSync(join(ROOT, "dist/bench"), { recursive: true });
  writeFileSync(
    ONLY === undefined && !QUICK ? RESULTS_JSON : PARTIAL_JSON,
    // JSON has no Infinity (an alert never received): it is written as the string "Infinity".
    JSON.stringify(
      { machine: host, seconds, quick: QUICK, only: ONLY ?? null, figures },
      (_k, v: unknown) => (v === Infinity ? "Infinity" : v),
      2,
    ),
  );
  if (argv.has("--write")) {
    if (ONLY !== undefined) throw new Error("--write with --only: RESULTS.md holds every figure");
    if (QUICK) throw new Error("--write with --quick: quick runs are not figures");
    writeFileSync(join(ROOT, "bench/RESULTS.md"), resultsMarkdown(figures, host, seconds));
    log("wrote bench/RESULTS.md");
  }
}

try {
  await main();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
