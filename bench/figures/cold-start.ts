/** Cold start: importing what the Functions worker imports at start-up, bundled and not, beside the bare SDKs. */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { IMPORT_CHILD, ROOT, SIZES, log, runChild } from "../harness.js";
import { median, type Figure } from "../table.js";

const DEPLOY = join(ROOT, "dist/deploy");
const UNBUNDLED = join(ROOT, "dist/functions");
/** The SDKs the Function App is built on: what a cold start costs when each is simply imported. */
const SDK_SET = [
  "@azure/functions",
  "@azure/identity",
  "@microsoft/microsoft-graph-client",
  "nylas",
  "@azure/data-tables",
];

function deployedEntries(): string[] {
  const pkg = JSON.parse(readFileSync(join(DEPLOY, "package.json"), "utf8")) as { main: string };
  // main is "functions/*.js": every file the Functions worker imports at start-up.
  const [dir = "", pattern = ""] = pkg.main.split("/");
  if (pattern !== "*.js") throw new Error(`dist/deploy/package.json main "${pkg.main}" is not <dir>/*.js`);
  return readdirSync(join(DEPLOY, dir))
    .filter((f) => f.endsWith(".js"))
    .sort()
    .map((f) => join(DEPLOY, dir, f));
}

export async function coldStart(): Promise<Figure[]> {
  log(`cold start: ${SIZES.imports} fresh processes each (median)`);
  const deployed = deployedEntries();
  const unbundled = deployed.map((f) => join(UNBUNDLED, f.slice(f.lastIndexOf("/") + 1)));
  const sides = { deployed, sdk: SDK_SET, unbundled };
  const times: Record<keyof typeof sides, number[]> = { deployed: [], sdk: [], unbundled: [] };
  // One unmeasured round first: the page cache, not the code, would otherwise decide the first run.
  for (let round = 0; round <= SIZES.imports; round++) {
    for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
      const { report } = await runChild([IMPORT_CHILD, ...sides[side]], {});
      if (round > 0) times[side].push(report.ms);
    }
  }
  return [
    {
      name: `cold start: import the deployed app (${deployed.length} triggers, dist/deploy)`,
      unit: "ms",
      measured: median(times.deployed),
      floor: median(times.sdk),
      goal: { kind: "max", value: 150 },
      note: `median of ${SIZES.imports} fresh processes; floor = importing ${SDK_SET.join(", ")}`,
    },
    {
      name: "cold start: the same, unbundled tsc output (not deployed)",
      unit: "ms",
      measured: median(times.unbundled),
      floor: median(times.sdk),
      goal: null,
      note: "for comparison: dist/functions/*.js with node_modules",
    },
  ];
}
