/**
 * Retirement: a superseded watchdog-created secret is removed once no valid
 * grant depends on it and RETIRE_GRACE_HOURS have passed since the switch
 * (consumers that cached the old value get time to notice); otherwise it is
 * left to expire. Expired watchdog-created secrets are cleaned up. Never the
 * connector's secret, never a secret the watchdog did not create.
 */
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication, GraphClient } from "../clients/graph.js";
import { isExpired } from "../watch/classify.js";
import { FOREIGN, saveKeyRecord, type KeyRecord } from "./records.js";
import { removeKeyWithRetry } from "./rotate.js";
import type { MigrationTracker } from "./migrate.js";

export interface RetirementAction {
  keyId: string;
  action: "remove" | "stop-tracking" | "keep";
  reason: string;
}

export function planRetirement(
  app: GraphApplication,
  records: readonly KeyRecord[],
  tracker: MigrationTracker,
  now: Date,
  graceHours: number,
): RetirementAction[] {
  const present = new Set(app.passwordCredentials.map((p) => p.keyId));
  const out: RetirementAction[] = [];
  for (const r of records) {
    if (r.state !== "superseded") continue;
    const dependents = tracker.countFor(r.keyId);
    if (r.keyId === FOREIGN) {
      // Foreign secrets are never touched; stop tracking once nobody depends on them or they expired.
      if (dependents === 0 || isExpired(r.endDateTime, now)) {
        out.push({
          keyId: r.keyId,
          action: "stop-tracking",
          reason:
            dependents === 0 ? "no grant depends on the earlier secret(s)" : "the earlier secret(s) expired",
        });
      }
      continue;
    }
    if (!present.has(r.keyId)) {
      out.push({ keyId: r.keyId, action: "stop-tracking", reason: "already gone from the app registration" });
    } else if (isExpired(r.endDateTime, now)) {
      out.push({ keyId: r.keyId, action: "remove", reason: "expired (watchdog-created, superseded)" });
    } else if (dependents > 0) {
      out.push({ keyId: r.keyId, action: "keep", reason: `${dependents} valid grant(s) still depend on it` });
    } else if (now.getTime() - Date.parse(r.supersededAt ?? now.toISOString()) < graceHours * HOUR_MS) {
      out.push({
        keyId: r.keyId,
        action: "keep",
        reason: `within RETIRE_GRACE_HOURS (${graceHours} h) of the switch`,
      });
    } else {
      out.push({
        keyId: r.keyId,
        action: "remove",
        reason: "superseded, no valid grant depends on it, grace period over",
      });
    }
  }
  return out;
}

export async function executeRetirement(
  app: GraphApplication,
  records: readonly KeyRecord[],
  actions: readonly RetirementAction[],
  deps: { store: StateStore; graph: GraphClient; clock: Clock; logger: Logger },
): Promise<string[]> {
  const byId = new Map(records.map((r) => [r.keyId, r]));
  const removed: string[] = [];
  const now = deps.clock.now().toISOString();
  for (const action of actions) {
    const record = byId.get(action.keyId);
    if (record === undefined || action.action === "keep") continue;
    if (action.action === "remove") {
      deps.logger.info(`retirement: removing secret ${action.keyId}: ${action.reason}`);
      if (!(await removeKeyWithRetry(deps.graph, app.id, action.keyId, deps))) continue;
      removed.push(action.keyId);
    }
    await saveKeyRecord(deps.store, { ...record, state: "removed", removedAt: now });
  }
  return removed;
}
