import { UsageError } from "../errors.js";
import { MIN_HEALTH_KEY_LENGTH } from "../host/trigger.js";
import { rememberSecret } from "../redaction.js";
import { commandLogger, type Command } from "./main.js";

export const serveCommand: Command = {
  name: "serve",
  runsUntilStopped: true,
  summary: "run the Function App locally: HTTP routes + both timers",
  usage: "serve [--port 7071] [--host 127.0.0.1]",
  help: `
Runs the Function App without Azure Functions Core Tools: the same handlers on
the same routes — /api/nylas/webhook (GET challenge, POST notifications) and
/api/health (function key: x-functions-key header or ?code=) — and the
secretWatchdog and grantSweep timers on WATCHDOG_SCHEDULE and
GRANT_SWEEP_SCHEDULE. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

A generated health key is printed at start; set --health-key (16 characters or more) to
choose one, which is then not printed.`,
  options: {
    port: { type: "string" },
    host: { type: "string" },
    "health-key": { type: "string" },
  },
  async run({ io, values, loadTriggers }) {
    const port = Number(values.port ?? "7071");
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be a port number from 0 to 65535, not "${String(values.port)}".`);
    }
    const healthKey = values["health-key"];
    // An empty key would match an empty ?code= and open /api/health to anyone.
    if (typeof healthKey === "string" && healthKey.length < MIN_HEALTH_KEY_LENGTH)
      throw new UsageError(
        `--health-key must be at least ${MIN_HEALTH_KEY_LENGTH} characters (it guards /api/health); leave it out to get a random one.`,
      );
    const [{ loadConfig }, { createDeps }, { invocationLogger }, serve, { ROUTE_PREFIX }, triggers] =
      await Promise.all([
        import("../config.js"),
        import("../deps.js"),
        import("../runtime.js"),
        import("../host/serve.js"),
        import("../host/trigger.js"),
        loadTriggers(),
      ]);
    const config = loadConfig(io.env);
    const logger = commandLogger(io, values);
    const deps = createDeps(config, invocationLogger());
    const host = await serve.startHost({
      port,
      deps,
      logger,
      triggers,
      ...(typeof values.host === "string" ? { host: values.host } : {}),
      ...(typeof healthKey === "string" ? { healthKey } : {}),
    });
    // A key the operator chose is not echoed: this output often ends up in a log.
    const given = typeof healthKey === "string";
    const key = given ? "the --health-key given" : "the key below";
    const routes = triggers.flatMap((t) =>
      t.kind === "http"
        ? [
            `  ${t.methods.join("+").padEnd(8)} ${host.url}${ROUTE_PREFIX}/${t.route}  (${t.authLevel === "function" ? `x-functions-key: ${key}` : "anonymous"})\n`,
          ]
        : [],
    );
    // A generated key is shown once, here, on a line of its own: every output passes the redactor,
    // which would hide it in the `x-functions-key: …` shape; after this line it is hidden everywhere.
    const generated = given ? "" : `Generated health key: ${host.healthKey}\n`;
    io.err(`watchdog serve: listening on ${host.url}\n${routes.join("")}${generated}Press Ctrl-C to stop.\n`);
    rememberSecret(host.healthKey);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        io.err(`\nwatchdog serve: ${signal}, shutting down…\n`);
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        void host.close().then(resolve);
      };
      const onInt = () => stop("SIGINT");
      const onTerm = () => stop("SIGTERM");
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
    });
    io.err("watchdog serve: stopped.\n");
    return 0;
  },
};
