/**
 * The self-check: doctor's checks run by the deployed watchdog itself, as its own identity — the
 * one that matters, and that `watchdog doctor` on a laptop (signed in as the operator) never sees.
 * Run from the `secretWatchdog` timer after its pass, daily and on the first pass after a
 * deployment (self-check-due.ts); never from the CLI's `run`, whose rights are the operator's.
 * A failing check becomes `setup.broken:<check>` with its fix, and `/api/health` shows the last one.
 */
import type { SelfCheckPorts } from "./self-check-run.js";
import { readSelfCheck, type SelfCheckRecord } from "./self-check-record.js";
import { selfCheckDue } from "./self-check-due.js";

export type { SelfCheckPorts } from "./self-check-run.js";

/** Runs the self-check when due; undefined when it was not. */
export async function runSelfCheckIfDue(
  ports: SelfCheckPorts,
  options: { deployment: string },
): Promise<SelfCheckRecord | undefined> {
  const last = await readSelfCheck(await ports.store());
  const due = selfCheckDue(last, ports.clock.now(), options.deployment);
  if (!due.due) {
    ports.logger.debug(`self-check: not due before ${due.nextAt}.`);
    return undefined;
  }
  // Loaded on demand: doctor's checks are no part of a pass that has nothing to check.
  const { runSelfCheck } = await import("./self-check-run.js");
  return runSelfCheck(ports, { deployment: options.deployment, reason: due.reason });
}
