/**
 * The `grantSweep` pass: catches what webhooks missed (Nylas stops delivering
 * to a `failed` endpoint and never replays). Pages every grant (offset paging,
 * limit 200 — grants have no cursor), raises an incident per invalid grant,
 * resolves incidents of grants that are valid again, re-drives notifications
 * whose processing was interrupted, and re-sends pending alerts.
 */
import type { StateStore } from "../state/store.js";
import type { NylasGrant } from "../clients/nylas.js";
import { errorMessage } from "../errors.js";
import { loadMigrationTracker } from "../rotation/migration-state.js";
import { decideMigrationIncident } from "../rotation/migration-plan.js";
import { migrationIncidentKey } from "../rotation/migrate.js";
import { recentlyExpiredConnectorSecret } from "../rotation/pass-record.js";
import { grantIncidentKey } from "./grant-signals.js";
import { decideGrantState, grantStateOf, type GrantChange } from "./grant-state.js";
import { openGrantIncidentKeys, recheckGrantIncident } from "./recheck-grant-incident.js";
import { processGrantEvent } from "./process-grant-event.js";
import { STALE_DELIVERY_MS, type EventRecord } from "./handle-nylas-webhook.js";
import type { BasePorts, GrantListing, OpenIncidentPort } from "./ports.js";

/**
 * De-duplication records are kept this long: Nylas retries for about 20 minutes, so a week is ample. The
 * webhook acknowledges without acting on anything older (STALE_DELIVERY_MS), so a purged id replayed later
 * raises nothing.
 */
const EVENT_RETENTION_MS = STALE_DELIVERY_MS;
/** An event still "received" after this long was interrupted: process it again. */
const STUCK_EVENT_MS = 60_000;

export interface SweepDeps extends BasePorts {
  nylas: GrantListing;
  store: StateStore;
  incidents: OpenIncidentPort;
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

type Tracker = Awaited<ReturnType<typeof loadMigrationTracker>>;

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
  const open = await openGrantIncidentKeys(deps.incidents);
  // Users re-authenticating move off the migration list: refresh its incident here, every sweep,
  // rather than only at the next watchdog pass.
  const migration = await loadMigrationTracker(deps.store, deps.config.rotation.switchMarginMinutes * 60);
  await sweepListing(deps, result, open, migration);
  await refreshMigration(deps, migration);
  result.onSupersededSecrets = migration.total;

  // Open incidents whose grant was not listed: deleted without a notification reaching us?
  for (const key of open) {
    const change = await recheckGrantIncident(key, deps.nylas, deps.config.nylas, "sweep");
    if (change !== undefined) await apply(change, deps, result, true);
  }

  await redriveEvents(deps, result);
  await deps.deliverPending(60_000);
  result.finishedAt = deps.clock.now().toISOString();
  await deps.store.put("runs", "grantSweep", result);
  deps.logger.info(
    `grantSweep: ${result.grants} grant(s), ${result.invalid} invalid (${result.raised} new), ${result.resolved} resolved, ${result.redriven} re-driven`,
  );
  return result;
}

/** Every grant, a page at a time: the listing reports each invalid one, and confirms each valid one. */
async function sweepListing(
  deps: SweepDeps,
  result: SweepResult,
  open: Set<string>,
  migration: Tracker,
): Promise<void> {
  const recentlyExpiredSecret = await recentlyExpiredConnectorSecret(deps.store, deps.clock.now());
  for await (const page of deps.nylas.listGrantPages({ limit: 200 })) {
    // Per grant, an `await` only where there is something to wait for: a sweep goes through every
    // grant of the application, and each needless one is a turn of the microtask queue (50,000 of
    // them per hook at the bench's size).
    for (const grant of page) {
      result.grants++;
      if (deps.onGrant !== undefined) await deps.onGrant(grant);
      migration.consider(grant);
      // Seen in the listing: whatever its state, it did not vanish.
      const wasOpen = open.delete(grantIncidentKey(grant.id));
      if (grant.grantStatus === "invalid") result.invalid++;
      if (grant.grantStatus === "valid" && deps.onGrantValid !== undefined) await deps.onGrantValid(grant);
      const change = decideGrantState(
        {
          grant: grantStateOf(grant.id, grant),
          open: wasOpen,
          reportsFailure: true,
          seenBy: "sweep",
          recentlyExpiredSecret,
        },
        deps.config.nylas,
      );
      if (change.action !== "none") await apply(change, deps, result, wasOpen);
    }
  }
}

async function apply(change: GrantChange, deps: SweepDeps, result: SweepResult, wasOpen: boolean) {
  if (change.action === "raise") {
    await deps.incidents.raise(change.signal);
    if (!wasOpen) result.raised++;
  } else if (change.action === "resolve") {
    await deps.incidents.resolve(change.key, change.note);
    result.resolved++;
  }
}

/** The migration incident of every app with a superseded secret, as the listing left it. */
async function refreshMigration(deps: SweepDeps, migration: Tracker): Promise<void> {
  for (const appId of migration.appIds) {
    const change = decideMigrationIncident({
      appId,
      byKey: migration.byKey(),
      dependents: migration.total,
      plans: undefined,
      current: migration.total > 0 ? await currentMigration(deps, appId) : undefined,
      complete: true,
      now: deps.clock.now(),
      config: deps.config,
    });
    if (change.action === "raise") await deps.incidents.raise(change.signal);
    else if (change.action === "resolve") await deps.incidents.resolve(change.key, change.note);
  }
}

async function currentMigration(deps: SweepDeps, appId: string) {
  const incident = await deps.incidents.get(migrationIncidentKey(appId));
  if (incident === undefined) return undefined;
  return {
    firing: incident.status === "firing",
    waiting: typeof incident.details.waiting_until === "string",
  };
}

/** Notifications whose processing was interrupted are processed again; old de-duplication records go. */
async function redriveEvents(deps: SweepDeps, result: SweepResult): Promise<void> {
  const now = deps.clock.now().getTime();
  for await (const item of deps.store.list<EventRecord>("events")) {
    const age = now - Date.parse(item.value.receivedAt);
    if (item.value.status === "received" && age >= STUCK_EVENT_MS) {
      try {
        await processGrantEvent(item.value.event, deps);
        await deps.store.put(
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
      if (await deps.store.delete("events", item.key, { ifMatch: item.etag })) result.purged++;
    }
  }
}
