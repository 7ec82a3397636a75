/**
 * Records the store could not read are moved to `quarantine` (lib/state/quarantine.ts) so that
 * one of them never stops every sweep and every alert. They still mean something was lost: a
 * delivery, an event, or a rotation's own record. This decides the incident that says so.
 *
 * A quarantined rotation record is critical: the rotation now reads it as absent, and although
 * that never leads to removing a secret (removal needs positive evidence), the watchdog may no
 * longer know about a secret it created, or what it sent to Nylas. A person should look.
 */
import { QUARANTINE, type QuarantinedRecord } from "../state/quarantine.js";
import type { StateStore } from "../state/store.js";
import type { Signal } from "./incident.js";

export const CORRUPT_STATE_KEY = "state.corrupt";

export const CORRUPT_STATE_RESOLVED = "No quarantined state records are left: the store reads cleanly.";

/** The incident for what is in quarantine, or undefined when it is empty. */
export function corruptStateSignal(records: readonly QuarantinedRecord[]): Signal | undefined {
  if (records.length === 0) return undefined;
  const collections = [...new Set(records.map((r) => r.collection))].sort();
  const oldest = records.map((r) => r.quarantinedAt).sort()[0]!;
  const rotation = collections.includes("rotation");
  return {
    key: CORRUPT_STATE_KEY,
    kind: CORRUPT_STATE_KEY,
    severity: rotation ? "critical" : "warning",
    summary:
      `${records.length} state record(s) could not be read and were moved to quarantine (${collections.join(", ")}).` +
      (rotation
        ? " The rotation's own records are among them: check the connector's secrets before the next rotation."
        : ""),
    details: {
      quarantined: records.length,
      collections: collections.join(", "),
      oldest_quarantined_at: oldest,
    },
    remediation: [
      "Each record is kept, with the text as found, under the `quarantine` collection of the state store (WATCHDOG_STATE_DIR/quarantine, or the Table's `quarantine` partition).",
      "Inspect it; restore what you can under its original collection and key, then delete the quarantine entry. This incident resolves on the next pass once quarantine is empty.",
      ...(rotation
        ? [
            "A rotation record was lost: run `watchdog doctor` and `watchdog scan` to see every secret on the connector's app. The watchdog never removes a secret it has no record of.",
          ]
        : []),
    ],
    links: [],
  };
}

/** Raises or resolves `state.corrupt` from what the store's quarantine holds now. */
export async function reportQuarantine(
  store: Pick<StateStore, "list">,
  alerts: { raise(signal: Signal): void; resolve(key: string, note: string): void },
): Promise<void> {
  const records: QuarantinedRecord[] = [];
  for await (const item of store.list<QuarantinedRecord>(QUARANTINE)) records.push(item.value);
  const signal = corruptStateSignal(records);
  if (signal !== undefined) alerts.raise(signal);
  else alerts.resolve(CORRUPT_STATE_KEY, CORRUPT_STATE_RESOLVED);
}
