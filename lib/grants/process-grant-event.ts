/**
 * Turns one verified grant notification into incident changes. Switches on
 * `type`, never on `code` (Nylas documents the codes loosely). Idempotent: the
 * same notification processed twice changes nothing the second time, which is
 * what makes at-least-once delivery safe.
 */
import type { Config } from "../config.js";
import type { Clock } from "../clock.js";
import { DAY_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { Incident, Signal } from "../incidents/incident.js";
import type { NylasGrant } from "../clients/nylas.js";
import { grantIncidentKey, invalidGrantSignal } from "./grant-signals.js";

export interface GrantEvent {
  /** The notification id (CloudEvents `id`): the de-duplication key. */
  id: string;
  type: "grant.expired" | "grant.updated" | "grant.created" | "grant.deleted";
  grantId: string;
  provider: string;
  email: string | undefined;
  /** Unix seconds (grant.expired: last successful update before expiry). */
  grantUpdatedAt: number | undefined;
  /** Unix seconds. */
  time: number | undefined;
}

/** The part of the incident manager grant handling needs. */
export interface IncidentPort {
  raise(signal: Signal): Promise<unknown>;
  resolve(key: string, note: string): Promise<unknown>;
  get(key: string): Promise<Incident | undefined>;
}

export interface GrantEventDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  state: StateStore;
  incidents: IncidentPort;
  nylas: { getGrant(grantId: string): Promise<NylasGrant | undefined> };
  /** Told when a grant is valid again (migration moves it off the old secret's list). */
  onGrantValid?: (grant: NylasGrant) => Promise<void>;
}

/** What the last watch pass stored about the connector app's secrets (see watchdog-pass.ts). */
interface RunRecord {
  connectorSecrets?: { keyId: string; endDateTime: string | null }[];
}

/** How recent an expiry must be to be named as the likely cause. */
const RECENT_EXPIRY_MS = 7 * DAY_MS;

/** A connector-app secret that expired within the last week, if the last pass saw one. */
export async function recentlyExpiredConnectorSecret(
  state: StateStore,
  now: Date,
): Promise<{ keyId: string; endDateTime: string } | undefined> {
  const run = await state.get<RunRecord>("runs", "secretWatchdog");
  for (const s of run?.value.connectorSecrets ?? []) {
    if (s.endDateTime === null) continue;
    const end = Date.parse(s.endDateTime);
    if (end <= now.getTime() && now.getTime() - end <= RECENT_EXPIRY_MS)
      return { keyId: s.keyId, endDateTime: s.endDateTime };
  }
  return undefined;
}

/** The stale check may not delay the page: no answer within this long, and the incident is raised. */
const STALE_CHECK_MS = 1_000;

const NO_ANSWER = Symbol("no answer");

/** The promise's value, or NO_ANSWER when it fails or takes longer than `ms`. */
async function answerWithin<T>(ms: number, promise: Promise<T>): Promise<T | typeof NO_ANSWER> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof NO_ANSWER>(
    (resolve) => (timer = setTimeout(() => resolve(NO_ANSWER), ms)),
  );
  try {
    return await Promise.race([promise.catch((): typeof NO_ANSWER => NO_ANSWER), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type GrantEventOutcome = "raised" | "resolved" | "still-invalid" | "no-incident" | "stale";

export async function processGrantEvent(event: GrantEvent, deps: GrantEventDeps): Promise<GrantEventOutcome> {
  const key = grantIncidentKey(event.grantId);
  switch (event.type) {
    case "grant.expired": {
      // Deliveries are at least once and unordered: a retry of this notification can arrive after the user
      // already signed in again. Nylas has the last word; if it cannot be asked, raise (never hide a failure).
      const current = await answerWithin(STALE_CHECK_MS, deps.nylas.getGrant(event.grantId));
      if (current === undefined) {
        // Nylas answered: no such grant (deleted since, or the mock grant of a test event). Nobody can sign in
        // again to a grant that does not exist, so there is no one to page about.
        deps.logger.info(
          `grant ${event.grantId}: grant.expired for a grant Nylas does not have; nothing raised`,
        );
        return "no-incident";
      }
      const staleAfter = event.time ?? Number.POSITIVE_INFINITY;
      if (current !== NO_ANSWER && current.grantStatus === "valid" && current.updatedAt > staleAfter) {
        deps.logger.info(
          `grant ${event.grantId}: ignored a late grant.expired; the grant re-authenticated since`,
        );
        await deps.onGrantValid?.(current);
        return "stale";
      }
      const signal = invalidGrantSignal(
        {
          grantId: event.grantId,
          email: event.email,
          provider: event.provider,
          lastWorkedAt: event.grantUpdatedAt,
          recentlyExpiredSecret: await recentlyExpiredConnectorSecret(deps.state, deps.clock.now()),
          seenBy: "webhook",
        },
        deps.config.nylas,
      );
      await deps.incidents.raise(signal);
      deps.logger.warn(`grant ${event.grantId} (${event.provider}) expired: incident ${key} raised`);
      return "raised";
    }
    case "grant.updated":
    case "grant.created": {
      // Notifications arrive unordered: confirm with Nylas before resolving anything.
      const grant = await deps.nylas.getGrant(event.grantId);
      if (grant?.grantStatus === "valid") await deps.onGrantValid?.(grant);
      const incident = await deps.incidents.get(key);
      if (incident?.status !== "firing") return "no-incident";
      if (grant === undefined) {
        await deps.incidents.resolve(key, "The grant no longer exists in Nylas.");
        return "resolved";
      }
      if (grant.grantStatus !== "valid") return "still-invalid";
      await deps.incidents.resolve(
        key,
        `${grant.email ?? grant.id} re-authenticated; Nylas reports the grant valid.`,
      );
      deps.logger.info(`grant ${event.grantId} is valid again: incident ${key} resolved`);
      return "resolved";
    }
    case "grant.deleted": {
      const incident = await deps.incidents.get(key);
      if (incident?.status !== "firing") return "no-incident";
      await deps.incidents.resolve(
        key,
        "The grant was deleted, so it can no longer fail; nothing left to do.",
      );
      return "resolved";
    }
  }
}
