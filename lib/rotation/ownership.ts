/**
 * Who manages the connector's app registration, judged from the keys on it:
 * a watchdog-marked key that this installation neither recorded, nor made
 * (its installation id), nor adopted was made by another installation — or by
 * this one before its store was lost. Either way it may be in the connector,
 * and the runner that finds it must change nothing until told `--adopt`.
 */
import type { GraphApplication } from "../clients/graph.js";
import { adoptedKeyIds, type InstallationRecord } from "./installation.js";
import { parseMarker } from "./marker.js";
import type { KeyRecord } from "./records.js";

export interface OtherInstallationKey {
  keyId: string;
  /** "legacy" for keys made before installation ids existed. */
  installationId: string;
  rotationId: string;
  /** When the rotation that made it started. */
  rotatedAt: string;
  endDateTime: string | null;
}

export interface Ownership {
  /** Keys another installation made; empty when this installation manages the connector. */
  others: OtherInstallationKey[];
  /** The other installations, newest rotation first. */
  installations: { id: string; lastRotatedAt: string }[];
}

export function judgeOwnership(
  app: GraphApplication,
  records: readonly KeyRecord[],
  installation: InstallationRecord,
): Ownership {
  const recorded = new Set(records.map((r) => r.keyId));
  const adopted = adoptedKeyIds(installation);
  const others: OtherInstallationKey[] = [];
  for (const p of app.passwordCredentials) {
    const marker = parseMarker(p.displayName);
    if (marker === undefined || recorded.has(p.keyId) || adopted.has(p.keyId)) continue;
    if (marker.installationId === installation.id) continue;
    others.push({
      keyId: p.keyId,
      installationId: marker.installationId ?? "legacy",
      rotationId: marker.rotationId,
      rotatedAt: marker.startedAt,
      endDateTime: p.endDateTime,
    });
  }
  const latest = new Map<string, string>();
  for (const k of others) {
    const seen = latest.get(k.installationId);
    if (seen === undefined || seen < k.rotatedAt) latest.set(k.installationId, k.rotatedAt);
  }
  const installations = [...latest]
    .map(([id, lastRotatedAt]) => ({ id, lastRotatedAt }))
    .sort((a, b) => b.lastRotatedAt.localeCompare(a.lastRotatedAt));
  return { others, installations };
}

/** What a refused runner tells its operator: who manages the connector, and the two ways out. */
export function describeOtherInstallation(ownership: Ownership, storeDescription: string): string {
  const who = ownership.installations
    .map((i) =>
      i.id === "legacy"
        ? `an installation from before installation ids (last rotated ${i.lastRotatedAt})`
        : `installation ${i.id} (last rotated ${i.lastRotatedAt})`,
    )
    .join(", ");
  const keys = ownership.others.map((k) => k.keyId).join(", ");
  return (
    `The connector's app registration is managed by another watchdog installation: ${who}; its secret(s) ${keys} may be in the Nylas connector, and this installation (${storeDescription}) has no record of them. ` +
    `Nothing was changed. Either point this runner at the same state (AzureWebJobsStorage, or WATCHDOG_STATE_DIR) as the installation that manages the connector, ` +
    `or take over with 'watchdog run --adopt' (the other installation's secrets are then never removed by this one, and the other installation stops changing anything).`
  );
}
