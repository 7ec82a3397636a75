// What the command runs is imported inside run(): `watchdog --help` and the other commands
// never load Graph, @azure/identity or the Nylas SDK for it (the CLI is one lazily split bundle).
import type { ScanSummary } from "../watch/scan.js";
import { commandLogger, type Command } from "./main.js";

export const scanCommand: Command = {
  name: "scan",
  summary: "read-only: every watched credential with its days left",
  usage: "scan [--json]",
  help: `
Reads the app registration in the Nylas Microsoft connector and every app in
WATCH_APP_IDS from Microsoft Graph, and lists each client secret and
certificate with its days left (whole days until endDateTime, rounded down).
Changes nothing.

--json prints one JSON document (schema secret-watchdog.scan/v1) on stdout.

Exit: 0 healthy · 1 something is expired, within ALERT_BEFORE_DAYS, or could
not be checked · 2 bad configuration · 3 Nylas or Graph unreachable/refusing.`,
  options: { json: { type: "boolean" } },
  async run({ io, values }) {
    const [
      { loadConfig },
      { createDeps },
      { scanCredentials, scanExitCode },
      { ScanJsonWriter, formatScanTable },
    ] = await Promise.all([
      import("../config.js"),
      import("../deps.js"),
      import("../watch/scan.js"),
      import("../watch/format-scan.js"),
    ]);
    const config = loadConfig(io.env);
    const deps = createDeps(config, commandLogger(io, values));
    const thresholds = {
      alertBeforeDays: config.alerts.alertBeforeDays,
      rotateBeforeDays: config.rotation.rotateBeforeDays,
    };
    const json =
      values.json === true ? new ScanJsonWriter((t) => io.out(t), deps.clock.now(), thresholds) : undefined;
    let lastProgress = 0;
    let summary: ScanSummary;
    try {
      summary = await scanCredentials(deps, {
        watchAppIds: config.watchAppIds,
        thresholds,
        ...(json ? { onCredential: (r) => json.credential(r) } : {}),
        onProgress: (apps) => {
          // Progress only for people watching a terminal, and only for long scans.
          if (io.stderrIsTTY && apps - lastProgress >= 1000) {
            lastProgress = apps;
            io.err(`\rscanned ${apps.toLocaleString("en-US")} apps…`);
          }
        },
      });
    } finally {
      // The writer buffers: a scan that fails part-way still leaves on stdout what it read.
      json?.flush();
    }
    if (lastProgress > 0) io.err("\n");
    const code = scanExitCode(summary);
    if (json) json.finish(summary, code);
    else io.out(formatScanTable(summary, thresholds));
    return code;
  },
};
