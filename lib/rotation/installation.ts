/**
 * The installation: one state store and the keys it made. Its id is written
 * into every secret it creates (see marker.ts), so a runner with another store
 * — an operator's laptop beside the deployed Function, a redeploy that lost its
 * Table — can tell that the connector is managed by someone else, and must not
 * touch it until told `--adopt`.
 */
import type { Clock } from "../clock.js";
import type { StateStore } from "../state/store.js";
import { isInstallationId, newInstallationId } from "./marker.js";

export interface Adoption {
  at: string;
  /** The other installations' keys taken over: from now on treated like foreign secrets (never removed). */
  keyIds: string[];
  /** Their installation ids ("legacy" for keys made before installation ids existed). */
  from: string[];
}

export interface InstallationRecord {
  v: 1;
  id: string;
  createdAt: string;
  adoptions: Adoption[];
}

export const INSTALLATION_KEY = "installation";

/**
 * This store's installation, created on first use when `create` is set
 * (exactly one wins if two runners start at once). Read-only commands and dry
 * runs pass `create: false` and get an unsaved one when the store has none.
 */
export async function loadInstallation(
  store: StateStore,
  clock: Clock,
  options: { create: boolean },
): Promise<{ record: InstallationRecord; saved: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await store.get<InstallationRecord>("rotation", INSTALLATION_KEY);
    if (found !== undefined && isInstallationId(found.value.id)) {
      return { record: { ...found.value, adoptions: found.value.adoptions ?? [] }, saved: true };
    }
    const record: InstallationRecord = {
      v: 1,
      id: newInstallationId(),
      createdAt: clock.now().toISOString(),
      adoptions: [],
    };
    if (!options.create) return { record, saved: false };
    const written = await store.put("rotation", INSTALLATION_KEY, record, { ifNotExists: true });
    if (written.ok) return { record, saved: true };
  }
  throw new Error("state: could not read or create the installation record (state store contention).");
}

/** Records that this installation took over `keyIds` from other installations. */
export async function recordAdoption(
  store: StateStore,
  installation: InstallationRecord,
  adoption: Adoption,
): Promise<InstallationRecord> {
  const next = { ...installation, adoptions: [...installation.adoptions, adoption] };
  await store.put("rotation", INSTALLATION_KEY, next);
  return next;
}

export function adoptedKeyIds(installation: InstallationRecord): Set<string> {
  return new Set(installation.adoptions.flatMap((a) => a.keyIds));
}
