/**
 * An unconfirmed install settled by evidence. After a connector PATCH whose
 * answer was lost, the connector holds either the new key or the one before,
 * and nobody can tell from Nylas (it never returns the secret). Entra can: a
 * sign-in with the new key after the watchdog's own proof of it was Nylas
 * using it, and only the connector gives Nylas a key to use. That key is then
 * recorded as installed from the moment it was sent, and the ones before it
 * as superseded from then.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import { useAfterProof, type SignInReport } from "./evidence.js";
import { saveKeyRecord, type KeyRecord } from "./records.js";

/** Returns a line for the plan when it settled something. */
export async function settleAmbiguousInstall(
  records: readonly KeyRecord[],
  report: SignInReport,
  deps: { store: StateStore; clock: Clock; logger: Logger; dryRun: boolean },
): Promise<string | undefined> {
  if (!report.readable) return undefined;
  const used = records
    .filter((r) => r.state === "sent" && r.provenAt !== undefined && r.windowStart !== null)
    .filter((r) => useAfterProof(r, report.lastSignIn.get(r.keyId)) !== null)
    .sort((a, b) => (a.windowStart ?? "").localeCompare(b.windowStart ?? ""));
  const winner = used.at(-1);
  if (winner === undefined || deps.dryRun) {
    return winner === undefined
      ? undefined
      : `settle the unconfirmed connector update: Entra saw secret ${winner.keyId} sign in after its proof, so the connector holds it`;
  }
  const at = winner.windowStart!;
  await saveKeyRecord(deps.store, {
    ...winner,
    state: "installed",
    installedAt: at,
    ambiguous: false,
  });
  for (const r of records) {
    if (r.keyId === winner.keyId) continue;
    const before =
      (r.state === "installed" && (r.installedAt ?? "") <= at) ||
      (r.state === "sent" && (r.windowStart ?? "") < at);
    if (before)
      await saveKeyRecord(deps.store, {
        ...r,
        state: "superseded",
        supersededAt: at,
        supersededBy: winner.rotationId,
      });
  }
  const line = `settle the unconfirmed connector update: Entra saw secret ${winner.keyId} sign in after its proof, so the connector holds it since ${at}`;
  deps.logger.info(`rotation: ${line}`);
  return line;
}
