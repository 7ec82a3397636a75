import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { readHealth } from "../lib/health.js";

/** HTTP GET `/api/health` (function key): last runs, next expiry, open incidents. */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withInvocationLogger(context, async () => ({
    status: 200,
    jsonBody: await readHealth(runtimeDeps()),
    headers: { "cache-control": "no-store" },
  }));
}

app.http("health", {
  methods: ["GET"],
  authLevel: "function",
  route: "health",
  handler: health,
});
