/**
 * `npm run bench`: each figure measured in one run beside its floor — the
 * least code that does the same I/O — with the ratio and the goal.
 *
 *   npm run bench                 # prints the table, writes dist/bench/results.json
 *   npm run bench -- --write      # also rewrites bench/RESULTS.md (table + machine)
 *   npm run bench -- --quick      # small sizes, short runs: a smoke run, not figures
 *
 * The simulator runs in this process; every measured side (product and floor)
 * runs in its own child process, so each peak RSS is that process's alone.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startSimulator } from "../lib/sim/index.js";
import { coldStart } from "./figures/cold-start.js";
import { rotation } from "./figures/rotation.js";
import { scans } from "./figures/scan.js";
import { serve } from "./figures/serve.js";
import { sweep } from "./figures/sweep.js";
import { QUICK, ROOT, argv, log, scratch } from "./harness.js";
import { machine, resultsMarkdown } from "./results-markdown.js";
import { formatTable, type Figure } from "./table.js";

async function main(): Promise<void> {
  const started = performance.now();
  const figures: Figure[] = [];
  figures.push(...(await coldStart()));

  const sim = await startSimulator({ recordRequests: false });
  try {
    figures.push(...(await serve(sim)));
    figures.push(...(await scans(sim)));
    figures.push(...(await sweep(sim)));
  } finally {
    await sim.close();
  }
  figures.push(...(await rotation()));

  const seconds = (performance.now() - started) / 1000;
  const host = machine();
  process.stdout.write(
    `\n${formatTable(figures)}\n\n${host.cpus} × ${host.model}, ${host.memory}, Node ${host.node}, ${host.date}; ${Math.round(seconds)} s${QUICK ? " (--quick: not figures)" : ""}\n`,
  );
  mkdirSync(join(ROOT, "dist/bench"), { recursive: true });
  writeFileSync(
    join(ROOT, "dist/bench/results.json"),
    JSON.stringify({ machine: host, seconds, quick: QUICK, figures }, null, 2),
  );
  if (argv.has("--write")) {
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
