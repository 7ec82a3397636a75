import { app, type InvocationContext, type Timer } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { sweepGrants } from "../lib/grants/grant-passes.js";

/** Timer `%GRANT_SWEEP_SCHEDULE%`: invalid grants → incidents, valid again → resolved; re-sends pending alerts. */
export async function grantSweep(timer: Timer, context: InvocationContext): Promise<void> {
  await withInvocationLogger(context, async () => {
    if (timer.isPastDue) context.warn("grantSweep: running late (the previous schedule was missed)");
    await sweepGrants(runtimeDeps());
  });
}

app.timer("grantSweep", {
  schedule: "%GRANT_SWEEP_SCHEDULE%",
  handler: grantSweep,
});
