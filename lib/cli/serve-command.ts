import { loadConfig } from "../config.js";
import { createDeps } from "../deps.js";
import { invocationLogger } from "../runtime.js";
import { UsageError } from "../errors.js";
import { startHost } from "../host/serve.js";
import { commandLogger, type Command } from "./main.js";

export const serveCommand: Command = {
  name: "serve",
  summary: "run the Function App locally: HTTP routes + both timers",
  usage: "serve [--port 7071] [--host 127.0.0.1]",
  help: `
Runs the Function App without Azure Functions Core Tools: the same handlers on
the same routes — /api/nylas/webhook (GET challenge, POST notifications) and
/api/health (function key: x-functions-key header or ?code=) — and the
secretWatchdog and grantSweep timers on WATCHDOG_SCHEDULE and
GRANT_SWEEP_SCHEDULE. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

The health key is printed at start; set --health-key to choose it.`,
  options: {
    port: { type: "string" },
    host: { type: "string" },
    "health-key": { type: "string" },
  },
  async run({ io, values }) {
    const port = Number(values.port ?? "7071");
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be a port number from 0 to 65535, not "${String(values.port)}".`);
    }
    const healthKey = values["health-key"];
    // An empty key would match an empty ?code= and open /api/health to anyone.
    if (typeof healthKey === "string" && healthKey.length < 16)
      throw new UsageError(
        "--health-key must be at least 16 characters (it guards /api/health); leave it out to get a random one.",
      );
    const config = loadConfig(io.env);
    const logger = commandLogger(io, values);
    const deps = createDeps(config, invocationLogger());
    const host = await startHost({
      port,
      deps,
      logger,
      ...(typeof values.host === "string" ? { host: values.host } : {}),
      ...(typeof values["health-key"] === "string" ? { healthKey: values["health-key"] } : {}),
    });
    io.err(
      `watchdog serve: listening on ${host.url}\n` +
        `  POST ${host.url}/api/nylas/webhook   (Nylas notifications; signature required)\n` +
        `  GET  ${host.url}/api/health          (x-functions-key: ${host.healthKey})\n` +
        `Press Ctrl-C to stop.\n`,
    );
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
