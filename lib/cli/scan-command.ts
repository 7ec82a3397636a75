// What the command runs is imported inside run(): `watchdog --help` and the other commands
// never load Graph, @azure/identity or the Nylas SDK for it (the CLI is one lazily split bundle).
import type { Deps } from "../deps.js";
import type { KeyRecord } from "../rotation/records.js";
import type { ScanSummary } from "../watch/scan.js";
import { errorMessage } from "../errors.js";
import { failureOf } from "./failure.js";
import { commandLogger, type Command } from "./main.js";

/**
 * The key records say which secret the connector holds (the evidence an expired secret is unused).
 * A store that cannot be read only means no such evidence: the scan goes on, conservatively.
 */
async function keyRecords(deps: Deps): Promise<KeyRecord[]> {
  const { readAllKeyRecords } = await import("../rotation/unused-secrets.js");
  try {
    const store = await deps.store();
    try {
      return await readAllKeyRecords(store);
    } finally {
      await store.close?.();
    }
  } catch (error) {
    deps.logger.warn(
      `scan: the state store could not be read (${errorMessage(error)}): every expired secret counts as in use.`,
    );
    return [];
  }
}

export const scanCommand: Command = {
  name: "scan",
  summary: "read-only: every watched credential with its days left",
  usage: "scan [--json]",
  help: `
Reads the app registration in the Nylas Microsoft connector and every app in
WATCH_APP_IDS from Microsoft Graph, and lists each client secret and
certificate with its days left (whole days until endDateTime, rounded down).
Changes nothing.

An expired secret of the connector's app that the connector provably no
longer holds (this installation's records show it rotated to another one) is
listed as "expired (unused)" and is not a failure, as for 'watchdog run'.

--json prints one JSON document (schema secret-watchdog.scan/v1) on stdout,
also when the scan stops part-way (with what it read, "problems" and "exitCode").

Exit: 0 healthy · 1 something in use is expired, within ALERT_BEFORE_DAYS, or
could not be checked · 2 bad configuration or the watchdog's own credential
refused · 3 Nylas or Graph unreachable/refusing.`,
  options: { json: { type: "boolean" } },
  async run({ io, values }) {
    const [
      { loadConfig },
      { createDeps },
      { scanCredentials, scanExitCode },
      { ScanJsonWriter, formatScanTable },
      { unusedExpiredSecrets },
    ] = await Promise.all([
      import("../config.js"),
      import("../deps.js"),
      import("../watch/scan.js"),
      import("../watch/format-scan.js"),
      import("../rotation/unused-secrets.js"),
    ]);
    const config = loadConfig(io.env);
    const deps = createDeps(config, commandLogger(io, values));
    const thresholds = {
      alertBeforeDays: config.alerts.alertBeforeDays,
      rotateBeforeDays: config.rotation.rotateBeforeDays,
    };
    // Read beside the scan's first requests (never rejects: an unreadable store means no evidence),
    // needed only once the connector's app has arrived.
    const records = keyRecords(deps);
    // Filled when the connector's app arrives, before its secrets are written.
    const unused = new Set<string>();
    const json =
      values.json === true
        ? new ScanJsonWriter((t) => io.out(t), deps.clock.now(), thresholds, unused)
        : undefined;
    let lastProgress = 0;
    let summary: ScanSummary;
    try {
      summary = await scanCredentials(deps, {
        watchAppIds: config.watchAppIds,
        thresholds,
        onConnectorApp: async (app) => {
          for (const keyId of unusedExpiredSecrets(app, await records, deps.clock.now())) unused.add(keyId);
        },
        ...(json ? { onCredential: (r) => json.credential(r) } : {}),
        onProgress: (apps) => {
          // Progress only for people watching a terminal, and only for long scans.
          if (io.stderrIsTTY && apps - lastProgress >= 1000) {
            lastProgress = apps;
            io.err(`\rscanned ${apps.toLocaleString("en-US")} apps…`);
          }
        },
      });
    } catch (error) {
      // One complete document even so: what was read, why it stopped, and the exit code main returns.
      json?.fail(failureOf("scan", error));
      throw error;
    }
    if (lastProgress > 0) io.err("\n");
    // An expired secret nothing depends on is reported, not failed on: the rule run's attention uses.
    const code = scanExitCode({
      ...summary,
      counts: { ...summary.counts, expired: summary.counts.expired - unused.size },
    });
    if (json) json.finish(summary, code);
    else io.out(formatScanTable(summary, thresholds, unused));
    return code;
  },
};
