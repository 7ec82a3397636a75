/**
 * Registers a declared trigger with the Azure Functions host, so the route,
 * methods, key and schedule a Function App runs on are the ones `watchdog
 * serve` reads from the same declaration.
 */
import { app } from "@azure/functions";
import { redactingHandler } from "./redact-answer.js";
import type { TriggerDescriptor } from "./trigger.js";

export function registerTrigger(trigger: TriggerDescriptor): void {
  if (trigger.kind === "http") {
    app.http(trigger.name, {
      route: trigger.route,
      methods: [...trigger.methods],
      authLevel: trigger.authLevel,
      handler: redactingHandler(trigger.handler),
    });
  } else {
    // `%NAME%`: the host reads the NCRONTAB expression from that app setting.
    app.timer(trigger.name, { schedule: `%${trigger.scheduleSetting}%`, handler: trigger.handler });
  }
}
