/**
 * The product side of the scan and sweep figures: `node dist/bench/cli-child.js
 * <report file> scan --json` runs the real CLI command — `runCli` with the
 * process's stdin/stdout/stderr, as `npx watchdog` does — and writes a
 * ChildReport to the report file (stdout is the command's).
 *
 * The modules the command loads on demand (the SDKs, the state store) are
 * imported first, outside the timed work: start-up is the cold-start
 * figure's business, and the report's `ms` still shows the whole process.
 */
import { writeFileSync } from "node:fs";
import { measure } from "./report.js";

const WARM = [
  // What the commands' run() imports on demand (sweep-command.ts, scan-command.ts).
  "../lib/config.js",
  "../lib/deps.js",
  "../lib/grants/grant-passes.js",
  "nylas",
  "@azure/identity",
  "@microsoft/microsoft-graph-client",
  "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js",
  "../lib/clients/credential.js",
  "../lib/clients/graph.js",
  "../lib/clients/graph-sdk.js",
  "../lib/state/create-store.js",
  "../lib/incidents/incident-manager.js",
  "../lib/incidents/outbox.js",
  "../lib/incidents/sinks/create-sinks.js",
];

const [reportFile = "", ...args] = process.argv.slice(2);
await Promise.all(WARM.map((spec) => import(spec)));
const [{ runCli }, { COMMANDS }, { processIo }] = await Promise.all([
  import("../lib/cli/main.js"),
  import("../lib/cli/commands.js"),
  import("../lib/cli/io.js"),
]);
const report = await measure(async () => ({ exitCode: await runCli(args, processIo(), COMMANDS) }));
writeFileSync(reportFile, JSON.stringify(report));
process.exitCode = report.exitCode;
