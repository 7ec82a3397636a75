import type { InvocationContext, Timer } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { reportStaleness } from "../lib/health/stale-incident.js";
import { sweepGrants } from "../lib/grants/grant-passes.js";
import type { TimerTrigger } from "../lib/host/trigger.js";
import { registerTrigger } from "../lib/host/register-trigger.js";

/** Invalid grants → incidents, valid again → resolved; re-sends pending alerts. */
export async function grantSweep(timer: Timer, context: InvocationContext): Promise<void> {
  await withInvocationLogger(context, async () => {
    if (timer.isPastDue) context.warn("grantSweep: running late (the previous schedule was missed)");
    await sweepGrants(runtimeDeps());
    // The other timer may have stopped: whichever function still runs says so (watchdog.stale).
    await reportStaleness(runtimeDeps()).catch((e: unknown) => context.warn(`watchdog.stale: ${String(e)}`));
  });
}

export const grantSweepTrigger: TimerTrigger = {
  kind: "timer",
  name: "grantSweep",
  scheduleSetting: "GRANT_SWEEP_SCHEDULE",
  handler: grantSweep,
};

registerTrigger(grantSweepTrigger);
