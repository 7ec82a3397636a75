/**
 * One cold start: `node dist/bench/import-child.js <file or package>…` imports
 * each, one after another, as a Functions worker imports every file `main`
 * matches at start-up, and prints how long that took. It imports nothing
 * else, so nothing is warm.
 */
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { ChildReport } from "./report.js";

// BENCH_PRELOAD: modules imported before the clock starts (what the other side of a figure loads too).
for (const spec of (process.env.BENCH_PRELOAD ?? "").split(",").filter(Boolean)) await import(spec);

const started = performance.now();
for (const spec of process.argv.slice(2)) {
  await import(spec.startsWith("/") ? pathToFileURL(spec).href : spec);
}
const ms = performance.now() - started;
const report: ChildReport = { ms, workMs: ms, maxRssKiB: process.resourceUsage().maxRSS, exitCode: 0 };
process.stdout.write(`${JSON.stringify(report)}\n`);
