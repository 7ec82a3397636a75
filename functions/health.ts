import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { readHealth } from "../lib/health.js";
import type { HttpTrigger } from "../lib/host/trigger.js";
import { registerTrigger } from "../lib/host/register-trigger.js";

/** The health report (behind the function key): last runs, next expiry, open incidents. */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withInvocationLogger(context, async () => ({
    status: 200,
    jsonBody: await readHealth(runtimeDeps()),
    headers: { "cache-control": "no-store" },
  }));
}

export const healthTrigger: HttpTrigger = {
  kind: "http",
  name: "health",
  route: "health",
  methods: ["GET"],
  authLevel: "function",
  handler: health,
};

registerTrigger(healthTrigger);
