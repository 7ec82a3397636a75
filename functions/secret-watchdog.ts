import type { InvocationContext, Timer } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { errorMessage } from "../lib/errors.js";
import { reportStaleness } from "../lib/health/stale-incident.js";
import { runSelfCheckIfDue } from "../lib/health/self-check.js";
import { buildFingerprint, deploymentMarker } from "../lib/health/deployment-marker.js";
import { runWatchdogPass } from "../lib/watchdog-pass.js";
import type { TimerTrigger } from "../lib/host/trigger.js";
import { registerTrigger } from "../lib/host/register-trigger.js";

/** This file's bytes name the build it belongs to (lib/health/deployment-marker.ts); read once. */
let build: string | undefined;

/** One watch pass. Throws on failure so the platform records and alerts it. */
export async function secretWatchdog(timer: Timer, context: InvocationContext): Promise<void> {
  await withInvocationLogger(context, async () => {
    if (timer.isPastDue) context.warn("secretWatchdog: running late (the previous schedule was missed)");
    const deps = runtimeDeps();
    try {
      const result = await runWatchdogPass(deps);
      context.info(
        `secretWatchdog: ${result.scan.credentials} credential(s) in ${result.scan.apps} app(s); attention: ${result.attention}`,
      );
    } finally {
      // Here, as the deployed identity, and after a failed pass too: a missing Graph role fails every
      // pass, and the self-check is what names the fix. Not in the CLI's `run`: that runs as the
      // operator, whose rights say nothing about the deployment's. It never fails the pass.
      build ??= buildFingerprint(import.meta.url);
      await runSelfCheckIfDue(deps, { deployment: deploymentMarker(deps.config, build) }).catch(
        (e: unknown) => context.warn(`self-check: ${errorMessage(e)}`),
      );
    }
    // The other timer may have stopped: whichever function still runs says so (watchdog.stale).
    await reportStaleness(deps).catch((e: unknown) => context.warn(`watchdog.stale: ${String(e)}`));
  });
}

export const secretWatchdogTrigger: TimerTrigger = {
  kind: "timer",
  name: "secretWatchdog",
  scheduleSetting: "WATCHDOG_SCHEDULE",
  handler: secretWatchdog,
};

registerTrigger(secretWatchdogTrigger);
