import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { checkHealth } from "../lib/health.js";
import type { HttpTrigger } from "../lib/host/trigger.js";
import { registerTrigger } from "../lib/host/register-trigger.js";

/**
 * This process's start, on the deps' clock (the one the run records are judged by): read at the
 * first probe, which follows the worker's start. A later first probe only delays "never ran".
 */
let startedAt: Date | undefined;

/** How long a probe waits for a `watchdog.stale` alert to go out; the delivery goes on after. */
const ALERT_WAIT_MS = 2_000;

/**
 * The health report (behind the function key): last runs, the last self-check, next expiry, open
 * incidents. A stopped timer, or a self-check that found the watchdog cannot read or rotate the
 * connector's secret, answers 503 `degraded`, so any uptime monitor pages; a stopped timer also
 * raises `watchdog.stale` here (`setup.broken` is raised by the self-check itself, on the timer).
 */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withInvocationLogger(context, async () => {
    const deps = runtimeDeps();
    startedAt ??= deps.clock.now();
    const report = await checkHealth({ ...deps, startedAt }, { background: true, deadlineMs: ALERT_WAIT_MS });
    return {
      status: report.status === "degraded" ? 503 : 200,
      jsonBody: report,
      headers: { "cache-control": "no-store" },
    };
  });
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
