/**
 * The `grantSweep` pass: catches what webhooks missed (Nylas stops delivering
 * to a `failed` endpoint and never replays). Pages every grant (offset paging,
 * limit 200 — grants have no cursor), raises an incident per invalid grant,
 * resolves incidents of grants that are valid again, re-drives notifications
 * whose processing was interrupted, and re-sends pending alerts.
 */
import type { Deps } from "../deps.js";
import type { StateStore } from "../state/store.js";
import type { Incident } from "../incidents/incident.js";
import type { NylasGrant } from "../clients/nylas.js";
import { errorMessage } from "../errors.js";
import { grantIncidentKey, invalidGrantSignal } from "./grant-signals.js";
import {
  processGrantEvent,
  recentlyExpiredConnectorSecret,
  type GrantEventDeps,
  type IncidentPort,
} from "./process-grant-event.js";
import { STALE_DELIVERY_MS, type EventRecord } from "./handle-nylas-webhook.js";
import { loadMigrationTracker } from "../rotation/migration-state.js";
import { migrationIncidentKey, migrationSignal } from "../rotation/migrate.js";

/**
 * De-duplication records are kept this long: Nylas retries for about 20 minutes, so a week is ample. The
 * webhook acknowledges without acting on anything older (STALE_DELIVERY_MS), so a purged id replayed later
 * raises nothing.
 */
const EVENT_RETENTION_MS = STALE_DELIVERY_MS;
/** An event still "received" after this long was interrupted: process it again. */
const STUCK_EVENT_MS = 60_000;

export interface SweepDeps extends Pick<Deps, "config" | "clock" | "logger" | "nylas"> {
  state: StateStore;
  incidents: IncidentPort & { open(): AsyncIterable<Incident> };
  deliverPending: (deadlineMs: number) => Promise<void>;
  onGrantValid?: (grant: NylasGrant) => Promise<void>;
  /** Told about every grant seen (migration tracking). */
  onGrant?: (grant: NylasGrant) => Promise<void>;
}

export interface SweepResult {
  startedAt: string;
  finishedAt: string;
  grants: number;
  invalid: number;
  raised: number;
  resolved: number;
  redriven: number;
  purged: number;
  /** Valid grants still on a superseded client secret. */
  onSupersededSecrets: number;
}

export async function runGrantSweep(deps: SweepDeps): Promise<SweepResult> {
  const startedAt = deps.clock.now();
  const result: SweepResult = {
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    grants: 0,
    invalid: 0,
    raised: 0,
    resolved: 0,
    redriven: 0,
    purged: 0,
    onSupersededSecrets: 0,
  };

  // Open grant incidents, held as a set: one state read, not one per grant.
  const openGrantIncidents = new Set<string>();
  for await (const incident of deps.incidents.open()) {
    if (incident.kind === "grant.invalid") openGrantIncidents.add(incident.key);
  }
  const recentExpiry = await recentlyExpiredConnectorSecret(deps.state, startedAt);
  // Users re-authenticating move off the migration list: refresh its incident here, every sweep,
  // rather than only at the next watchdog pass.
  const migration = await loadMigrationTracker(deps.state, deps.config.rotation.switchMarginMinutes * 60);

  for await (const page of deps.nylas.listGrantPages({ limit: 200 })) {
    for (const grant of page) {
      result.grants++;
      await deps.onGrant?.(grant);
      migration.consider(grant);
      // Seen in the listing: whatever its state, it did not vanish.
      const wasOpen = openGrantIncidents.delete(grantIncidentKey(grant.id));
      if (grant.grantStatus === "invalid") {
        result.invalid++;
        await deps.incidents.raise(
          invalidGrantSignal(
            {
              grantId: grant.id,
              email: grant.email,
              provider: grant.provider,
              lastWorkedAt: grant.updatedAt,
              recentlyExpiredSecret: recentExpiry,
              seenBy: "sweep",
            },
            deps.config.nylas,
          ),
        );
        if (!wasOpen) result.raised++;
      } else if (grant.grantStatus === "valid") {
        await deps.onGrantValid?.(grant);
        if (wasOpen) {
          await deps.incidents.resolve(
            grantIncidentKey(grant.id),
            `${grant.email ?? grant.id} re-authenticated; Nylas reports the grant valid.`,
          );
          result.resolved++;
        }
      }
    }
  }

  for (const appId of migration.appIds) {
    const key = migrationIncidentKey(appId);
    if (migration.total > 0) {
      const open = await deps.incidents.get(key);
      // While the pass waits for Entra's sign-in evidence it owns the wording: the sweep has no evidence.
      const waiting = typeof open?.details.waiting_until === "string";
      if (open?.status === "firing" && !waiting) {
        await deps.incidents.raise(
          migrationSignal(appId, migration.byKey(), migration.total, deps.clock.now(), deps.config),
        );
      }
    } else {
      await deps.incidents.resolve(
        key,
        "Every user moved to the new secret: no valid grant depends on a superseded secret.",
      );
    }
  }
  result.onSupersededSecrets = migration.total;

  // Open incidents whose grant was not listed: deleted without a notification reaching us?
  for (const key of openGrantIncidents) {
    if (!(await deps.nylas.getGrant(key.slice("grant.invalid:".length)))) {
      await deps.incidents.resolve(key, "The grant no longer exists in Nylas.");
      result.resolved++;
    }
  }

  const eventDeps: GrantEventDeps = { ...deps, state: deps.state };
  const now = deps.clock.now().getTime();
  for await (const item of deps.state.list<EventRecord>("events")) {
    const age = now - Date.parse(item.value.receivedAt);
    if (item.value.status === "received" && age >= STUCK_EVENT_MS) {
      try {
        await processGrantEvent(item.value.event, eventDeps);
        await deps.state.put(
          "events",
          item.key,
          { ...item.value, status: "processed" },
          { ifMatch: item.etag },
        );
        result.redriven++;
      } catch (error) {
        deps.logger.warn(`grantSweep: could not re-drive notification ${item.key}: ${errorMessage(error)}`);
      }
    } else if (item.value.status === "processed" && age > EVENT_RETENTION_MS) {
      if (await deps.state.delete("events", item.key, { ifMatch: item.etag })) result.purged++;
    }
  }

  await deps.deliverPending(60_000);
  result.finishedAt = deps.clock.now().toISOString();
  await deps.state.put("runs", "grantSweep", result);
  deps.logger.info(
    `grantSweep: ${result.grants} grant(s), ${result.invalid} invalid (${result.raised} new), ${result.resolved} resolved, ${result.redriven} re-driven`,
  );
  return result;
}
