/**
 * One `secretWatchdog` pass. For now: watch (scan the connector's app and
 * WATCH_APP_IDS) and record the run for `health`. Rotation, migration,
 * retirement and alerts join this pass as they land.
 */
import type { Deps } from "./deps.js";
import { scanCredentials, scanExitCode, type ScanSummary } from "./watch/scan.js";

export interface WatchdogPassResult {
  startedAt: string;
  finishedAt: string;
  scan: Pick<ScanSummary, "apps" | "credentials" | "counts" | "problems">;
  /** The soonest expiry among watched credentials, if any. */
  nextExpiry: { appId: string; keyId: string; endDateTime: string; daysLeft: number | null } | null;
  attention: boolean;
  /**
   * The connector app's secrets (ids and expiry only): lets the webhook name an
   * expired client secret as the likely cause when grants go invalid.
   */
  connectorSecrets: { keyId: string; endDateTime: string | null }[];
}

export async function runWatchdogPass(deps: Deps): Promise<WatchdogPassResult> {
  const startedAt = deps.clock.now().toISOString();
  const connectorSecrets: WatchdogPassResult["connectorSecrets"] = [];
  const summary = await scanCredentials(deps, {
    onCredential: (r) => {
      if (r.source === "connector" && r.type === "password")
        connectorSecrets.push({ keyId: r.keyId, endDateTime: r.endDateTime });
    },
    watchAppIds: deps.config.watchAppIds,
    thresholds: {
      alertBeforeDays: deps.config.alerts.alertBeforeDays,
      rotateBeforeDays: deps.config.rotation.rotateBeforeDays,
    },
    keepSoonest: 10,
  });
  const soonest = summary.soonest.find((r) => r.endDateTime !== null && r.status !== "expired") ?? null;
  const result: WatchdogPassResult = {
    startedAt,
    finishedAt: deps.clock.now().toISOString(),
    scan: {
      apps: summary.apps,
      credentials: summary.credentials,
      counts: summary.counts,
      problems: summary.problems,
    },
    nextExpiry:
      soonest === null
        ? null
        : {
            appId: soonest.appId,
            keyId: soonest.keyId,
            endDateTime: soonest.endDateTime!,
            daysLeft: soonest.daysLeft,
          },
    attention: scanExitCode(summary) === 1,
    connectorSecrets,
  };
  const state = await deps.state();
  await state.put("runs", "secretWatchdog", result);
  return result;
}
