/**
 * The Function App's triggers, as functions/*.ts declare them: what the hosts
 * that are not Azure (`watchdog serve`, the sandbox) serve. lib/ never imports
 * functions/, so this entry point hands the table in.
 */
import type { TriggerDescriptor } from "../lib/host/trigger.js";

/**
 * Loads functions/*.ts quietly: outside Azure, @azure/functions warns through
 * console.warn that it is in test mode on every registration. Only those
 * notices are dropped; anything else still reaches the console.
 */
export async function loadTriggers(): Promise<readonly TriggerDescriptor[]> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = String(args[0]);
    if (text.includes('"@azure/functions" package') && text.startsWith("WARNING:")) return;
    warn(...args);
  };
  try {
    const [webhook, health, watchdog, sweep] = await Promise.all([
      import("../functions/nylas-webhook.js"),
      import("../functions/health.js"),
      import("../functions/secret-watchdog.js"),
      import("../functions/grant-sweep.js"),
    ]);
    return [
      webhook.nylasWebhookTrigger,
      health.healthTrigger,
      watchdog.secretWatchdogTrigger,
      sweep.grantSweepTrigger,
    ];
  } finally {
    console.warn = warn;
  }
}
