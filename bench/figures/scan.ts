/** scan --json at two tenant sizes: time, whole process, peak RSS and its growth, beside a fetch-loop floor. */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DAY_MS } from "../../lib/clock.js";
import type { Simulator } from "../../lib/sim/index.js";
import type { ChildReport } from "../report.js";
import {
  FLOOR_CHILD,
  SIZES,
  log,
  mib,
  pick,
  runChild,
  runCommand,
  scratch,
  thousands,
  type Sample,
} from "../harness.js";
import type { Figure } from "../table.js";

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

async function scan(sim: Simulator, apps: number): Promise<{ product: Sample; floor: Sample }> {
  log(`scan: ${apps.toLocaleString("en-US")} apps, ${SIZES.runs} run(s) per side`);
  const env = sim.env({ WATCH_APP_IDS: "*", WATCHDOG_STATE_DIR: join(scratch, "scan-state") });
  const product: ChildReport[] = [];
  const floor: ChildReport[] = [];
  for (let run = 0; run < SIZES.runs; run++) {
    const f = await runChild([FLOOR_CHILD, "scan-floor"], env);
    floor.push(f.report);
    // The real `watchdog scan --json`, its JSON document streamed to /dev/null.
    const p = await runCommand(["scan", "--json"], env, "ignore");
    if (p.report.exitCode !== 0 && p.report.exitCode !== 1) throw new Error(`scan failed:\n${p.stderr}`);
    const read = Number(/scan: (\d+) app\(s\)/.exec(p.stderr)?.[1] ?? NaN);
    if (read !== f.report.count) throw new Error(`scan read ${read} apps, the floor ${f.report.count}`);
    product.push(p.report);
  }
  return { product: pick(product), floor: pick(floor) };
}

export async function scans(sim: Simulator): Promise<Figure[]> {
  // Listing every app needs a read-all permission (OwnedBy covers only the apps it owns).
  sim.tenant.grantAppRole(sim.watchdog.servicePrincipalId, "Application.Read.All");
  const [small = 0, large = 0] = SIZES.apps;
  const results: { apps: number; product: Sample; floor: Sample }[] = [];
  for (const apps of [small, large]) {
    const t = performance.now();
    addApps(sim, apps - sim.tenant.apps.size);
    log(
      `seeded ${sim.tenant.apps.size.toLocaleString("en-US")} apps in ${Math.round(performance.now() - t)} ms`,
    );
    results.push({ apps, ...(await scan(sim, apps)) });
  }
  const work = `median of ${SIZES.runs}; from the command's start to its exit code (modules loaded beforehand: start-up is the cold-start row); floor = one token, then a fetch loop over /applications with the same $select and $top=999`;
  const figures: Figure[] = results.map(({ apps, product, floor }) => ({
    name: `scan --json, ${thousands(apps)} apps: time`,
    unit: "s",
    measured: product.workMs / 1000,
    floor: floor.workMs / 1000,
    goal: { kind: "ratio-max", value: 1.3 },
    note: work,
  }));
  for (const { apps, product, floor } of results) {
    figures.push({
      name: `scan --json, ${thousands(apps)} apps: whole process`,
      unit: "s",
      measured: product.ms / 1000,
      floor: floor.ms / 1000,
      goal: null,
      note: "median of the same runs, from process start: Node start-up and module loading included",
    });
  }
  for (const { apps, product, floor } of results) {
    figures.push({
      name: `scan --json, ${thousands(apps)} apps: peak RSS`,
      unit: "MiB",
      measured: mib(product.rssKiB),
      floor: mib(floor.rssKiB),
      goal: null,
      note: "maxRSS of each child process, median of the same runs",
    });
  }
  const [a, b] = results;
  if (a !== undefined && b !== undefined) {
    figures.push({
      name: `scan --json: peak RSS growth ${thousands(a.apps)} → ${thousands(b.apps)} apps`,
      unit: "×",
      measured: b.product.rssKiB / a.product.rssKiB,
      floor: b.floor.rssKiB / a.floor.rssKiB,
      goal: { kind: "max", value: 1.2 },
      note: "peak RSS at the larger size over the smaller: pages are streamed, nothing per app is kept",
    });
  }
  return figures;
}
