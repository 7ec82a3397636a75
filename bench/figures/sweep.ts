/** sweep --json over every grant, all valid and then 1 % invalid, beside a fetch-loop floor. */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Simulator } from "../../lib/sim/index.js";
import type { ChildReport } from "../report.js";
import { FLOOR_CHILD, SIZES, log, pick, runChild, runCommand, scratch, thousands } from "../harness.js";
import type { Figure } from "../table.js";

/** In the sweep's second setting, one grant in a hundred is invalid: real incident work, not only paging. */
const INVALID_EVERY = 100;

export async function sweep(sim: Simulator): Promise<Figure[]> {
  const t = performance.now();
  const base = sim.tenant.nylas.grants.length;
  for (let i = 0; i < SIZES.grants - base; i++) {
    sim.tenant.nylas.addGrant({
      email: `bench.user${i}@contoso.com`,
      created_at: 1_700_000_000 + i,
      updated_at: 1_700_000_000 + i,
    });
  }
  const total = sim.tenant.nylas.grants.length;
  log(`seeded ${total.toLocaleString("en-US")} grants in ${Math.round(performance.now() - t)} ms`);
  const env = sim.env({ WATCHDOG_STATE_DIR: join(scratch, "sweep-state") });
  const runSweep = async () => {
    const p = await runCommand(["sweep", "--json"], env, "pipe");
    if (p.report.exitCode !== 0) throw new Error(`sweep failed:\n${p.stderr}`);
    const result = JSON.parse(p.stdout) as { grants: number };
    if (result.grants !== total) throw new Error(`sweep saw ${result.grants} grants of ${total}`);
    return p.report;
  };

  log(`sweep: every grant valid, ${SIZES.runs} run(s) per side`);
  const product: ChildReport[] = [];
  const floor: ChildReport[] = [];
  for (let run = 0; run < SIZES.runs; run++) {
    const f = await runChild([FLOOR_CHILD, "sweep-floor"], env);
    if (f.report.count !== total) throw new Error(`the floor read ${f.report.count} grants of ${total}`);
    floor.push(f.report);
    product.push(await runSweep());
  }

  // The same tenant with one grant in a hundred invalid, each with its incident already open (one
  // unmeasured sweep opens them): every sweep then reads each one's incident from the state store.
  for (let i = 0; i < total; i += INVALID_EVERY) {
    const grant = sim.tenant.nylas.grants[i];
    if (grant !== undefined) grant.grant_status = "invalid";
  }
  sim.tenant.nylas.markChanged();
  log(
    `sweep: one grant in ${INVALID_EVERY} invalid, ${SIZES.runs} run(s) after one that opens the incidents`,
  );
  await runSweep();
  const withInvalid: ChildReport[] = [];
  for (let run = 0; run < SIZES.runs; run++) withInvalid.push(await runSweep());

  const p = pick(product);
  const f = pick(floor);
  const q = pick(withInvalid);
  const name = `sweep --json, ${thousands(total)} grants`;
  return [
    {
      name: `${name}: time`,
      unit: "s",
      measured: p.workMs / 1000,
      floor: f.workMs / 1000,
      goal: { kind: "ratio-max", value: 1.3 },
      note: `median of ${SIZES.runs}; every grant valid; from the command's start to its exit code (modules loaded beforehand); floor = a fetch loop over /v3/grants, offset paging, limit=200`,
    },
    {
      name: `${name}: whole process`,
      unit: "s",
      measured: p.ms / 1000,
      floor: f.ms / 1000,
      goal: null,
      note: "median of the same runs, from process start",
    },
    {
      name: `${name}, 1 % invalid (incidents open): time`,
      unit: "s",
      measured: q.workMs / 1000,
      floor: f.workMs / 1000,
      goal: null,
      note: `median of ${SIZES.runs} sweeps after one that opened an incident per invalid grant: each invalid grant costs a read of its incident from the state store (here the file store)`,
    },
  ];
}
