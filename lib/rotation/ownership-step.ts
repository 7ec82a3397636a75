/**
 * Who manages this connector? A key another installation made may be in it:
 * change nothing unless told `--adopt` (ownership.ts decides; this step loads
 * what it needs, records an adoption, and says so).
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication } from "../clients/graph.js";
import type { AlertCollector } from "../incidents/alert-collector.js";
import { loadInstallation, recordAdoption, type InstallationRecord } from "./installation.js";
import { describeOtherInstallation, judgeOwnership } from "./ownership.js";
import { loadKeyRecords } from "./records.js";
import { installationConflictSignal, installationSettled } from "./signals.js";

/** This installation manages the connector, or it was refused and says why. */
export type Claim = { installation: InstallationRecord } | { refused: string };

export async function claimConnector(
  ports: { clock: Clock; logger: Logger; store: StateStore },
  input: {
    app: GraphApplication;
    dryRun: boolean;
    adopt?: boolean;
    note: (line: string) => void;
    alerts: Pick<AlertCollector, "raise" | "resolve">;
  },
): Promise<Claim> {
  const { clock, logger, store } = ports;
  const { app, dryRun, note, alerts } = input;
  const appId = app.appId;
  let installation = (await loadInstallation(store, clock, { create: !dryRun })).record;
  const ownership = judgeOwnership(
    app,
    (await loadKeyRecords(store, appId)).map((i) => i.value),
    installation,
  );
  if (ownership.others.length > 0 && input.adopt !== true) {
    const reason = describeOtherInstallation(ownership, store.description);
    alerts.raise(installationConflictSignal(appId, installation.id, ownership));
    logger.warn(`secretWatchdog: ${reason}`);
    return { refused: reason };
  }
  if (ownership.others.length > 0) {
    note(
      `adopt the connector from ${ownership.installations.map((i) => i.id).join(", ")}: their secret(s) ${ownership.others.map((k) => k.keyId).join(", ")} are kept and never removed by this installation`,
    );
    if (!dryRun)
      installation = await recordAdoption(store, installation, {
        at: clock.now().toISOString(),
        keyIds: ownership.others.map((k) => k.keyId),
        from: ownership.installations.map((i) => i.id),
      });
  }
  if (!dryRun) {
    const settled = installationSettled(appId, installation.id);
    alerts.resolve(settled.key, settled.note);
  }
  return { installation };
}
