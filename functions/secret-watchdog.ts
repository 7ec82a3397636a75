import type { InvocationContext, Timer } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { reportStaleness } from "../lib/health/stale-incident.js";
import { runWatchdogPass } from "../lib/watchdog-pass.js";
import type { TimerTrigger } from "../lib/host/trigger.js";
import { registerTrigger } from "../lib/host/register-trigger.js";

/** One watch pass. Throws on failure so the platform records and alerts it. */
export async function secretWatchdog(timer: Timer, context: InvocationContext): Promise<void> {
  await withInvocationLogger(context, async () => {
    if (timer.isPastDue) context.warn("secretWatchdog: running late (the previous schedule was missed)");
    const result = await runWatchdogPass(runtimeDeps());
    context.info(
      `secretWatchdog: ${result.scan.credentials} credential(s) in ${result.scan.apps} app(s); attention: ${result.attention}`,
    );
    // The other timer may have stopped: whichever function still runs says so (watchdog.stale).
    await reportStaleness(runtimeDeps()).catch((e: unknown) => context.warn(`watchdog.stale: ${String(e)}`));
  });
}

export const secretWatchdogTrigger: TimerTrigger = {
  kind: "timer",
  name: "secretWatchdog",
  scheduleSetting: "WATCHDOG_SCHEDULE",
  handler: secretWatchdog,
};

registerTrigger(secretWatchdogTrigger);
