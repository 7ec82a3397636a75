// What the command runs is imported inside run(), so other commands never load it.
import { commandLogger, type Command } from "./main.js";

export const healthCommand: Command = {
  name: "health",
  summary: "the /api/health report: do the timers still run, open incidents",
  usage: "health [--json]",
  help: `
Prints what GET /api/health answers: each timer's last successful pass against
twice its schedule's interval (WATCHDOG_SCHEDULE, GRANT_SWEEP_SCHEDULE), the
deployed identity's last self-check, and the open incidents. Degraded when a
timer's last pass is older than that, or when one never finished a pass in two
intervals; then the watchdog.stale incident is raised (and resolved once both
timers pass again), as a health probe does. Degraded too when the self-check
found that the watchdog cannot read or rotate the connector's secret (a
critical setup.broken incident); any other failing self-check is attention.

The self-check runs in the Function App, as its identity, on the timer's first
pass after a deployment, then daily (docs/self-check.md); this command only
shows its result.

--json prints one JSON document (schema secret-watchdog.health/v1) on stdout,
with exitCode and problems: the stopped timers and failing self-checks, each
as {code, message, fix}.

Exit: 0 ok (open incidents alert on their own) · 1 degraded · 2 bad
configuration · 3 the state store unreachable.`,
  options: { json: { type: "boolean" } },
  async run({ io, values }) {
    const [
      { loadConfig },
      { createDeps },
      { checkHealth },
      { HEALTH_SCHEMA, formatHealthText, healthExitCode, healthProblems },
    ] = await Promise.all([
      import("../config.js"),
      import("../deps.js"),
      import("../health.js"),
      import("../health/format.js"),
    ]);
    const deps = createDeps(loadConfig(io.env), commandLogger(io, values));
    // This process has just started: only the run records themselves can date the deployment.
    const report = await checkHealth({ ...deps, startedAt: deps.clock.now() });
    const exitCode = healthExitCode(report);
    if (values.json === true) {
      const problems = healthProblems(report);
      io.out(`${JSON.stringify({ schema: HEALTH_SCHEMA, exitCode, problems, ...report })}\n`);
    } else io.out(formatHealthText(report));
    return exitCode;
  },
};
