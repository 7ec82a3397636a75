// What the command runs is imported inside run(), so other commands never load it.
import { commandLogger, type Command } from "./main.js";

/** The `--json` document's schema: versioned, so automation can tell a shape change. */
export const SWEEP_SCHEMA = "secret-watchdog.sweep/v1";

export const sweepCommand: Command = {
  name: "sweep",
  summary: "one grantSweep pass: invalid grants → incidents",
  usage: "sweep [--json]",
  help: `
Runs one grantSweep pass, exactly as the timer does: pages every Nylas grant,
opens an incident for each invalid one, resolves incidents of grants valid
again, re-drives interrupted notifications and re-sends pending alerts.

--json prints one JSON document (schema secret-watchdog.sweep/v1) on stdout,
also when the pass stops on an error ("problems" and "exitCode" say why).

Exit: 0 the pass completed (invalid grants alert as incidents) · 2 bad
configuration · 3 Nylas or the state store unreachable.`,
  options: { json: { type: "boolean" } },
  async run({ io, values }) {
    const [{ loadConfig }, { createDeps }, { sweepGrants }] = await Promise.all([
      import("../config.js"),
      import("../deps.js"),
      import("../grants/grant-passes.js"),
    ]);
    const deps = createDeps(loadConfig(io.env), commandLogger(io, values));
    const result = await sweepGrants(deps);
    if (values.json === true)
      io.out(`${JSON.stringify({ schema: SWEEP_SCHEMA, ...result, problems: [], exitCode: 0 })}\n`);
    else {
      io.out(
        `Swept ${result.grants} grant(s): ${result.invalid} invalid (${result.raised} new incident(s)), ${result.resolved} resolved, ${result.redriven} notification(s) re-driven.\n`,
      );
    }
    return 0;
  },
};
