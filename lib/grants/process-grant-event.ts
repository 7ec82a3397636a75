/**
 * Turns one verified grant notification into incident changes. Switches on
 * `type`, never on `code` (Nylas documents the codes loosely). Idempotent: the
 * same notification processed twice changes nothing the second time, which is
 * what makes at-least-once delivery safe.
 */
import type { StateStore } from "../state/store.js";
import type { NylasGrant } from "../clients/nylas.js";
import { GONE, decideGrantState, grantStateOf, type GrantChange, type GrantState } from "./grant-state.js";
import { grantIncidentKey } from "./grant-signals.js";
import { recentlyExpiredConnectorSecret } from "../rotation/pass-record.js";
import type { BasePorts, GrantLookup, IncidentPort } from "./ports.js";

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

export interface GrantEventDeps extends BasePorts {
  store: StateStore;
  incidents: IncidentPort;
  nylas: GrantLookup;
  /** Told when a grant is valid again (migration moves it off the old secret's list). */
  onGrantValid?: (grant: NylasGrant) => Promise<void>;
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
  switch (event.type) {
    case "grant.expired":
      return expired(event, deps);
    case "grant.updated":
    case "grant.created":
      return updated(event, deps);
    case "grant.deleted": {
      const gone: GrantState = { ...factsOf(event), status: GONE };
      return decideAndApply(gone, false, deps);
    }
  }
}

function factsOf(event: GrantEvent): Omit<GrantState, "status"> {
  return {
    grantId: event.grantId,
    email: event.email,
    provider: event.provider,
    updatedAt: event.grantUpdatedAt,
  };
}

async function expired(event: GrantEvent, deps: GrantEventDeps): Promise<GrantEventOutcome> {
  // Deliveries are at least once and unordered: a retry of this notification can arrive after the user
  // already signed in again. Nylas has the last word; if it cannot be asked, raise (never hide a failure).
  const current = await answerWithin(STALE_CHECK_MS, deps.nylas.getGrant(event.grantId));
  if (current === undefined) {
    // Nylas answered: no such grant (deleted since, or the mock grant of a test event). Nobody can sign in
    // again to a grant that does not exist, so there is no one to page about.
    deps.logger.info(`grant ${event.grantId}: grant.expired for a grant Nylas does not have; nothing raised`);
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
  // Not contradicted: the notification reports the failure, in its own words (email, last worked).
  return decideAndApply({ ...factsOf(event), status: "invalid" }, true, deps);
}

async function updated(event: GrantEvent, deps: GrantEventDeps): Promise<GrantEventOutcome> {
  // Notifications arrive unordered: confirm with Nylas before resolving anything.
  const grant = await deps.nylas.getGrant(event.grantId);
  if (grant?.grantStatus === "valid") await deps.onGrantValid?.(grant);
  return decideAndApply(grantStateOf(event.grantId, grant), false, deps);
}

async function decideAndApply(
  grant: GrantState,
  reportsFailure: boolean,
  deps: GrantEventDeps,
): Promise<GrantEventOutcome> {
  const change: GrantChange = decideGrantState(
    {
      grant,
      // A failure report raises whatever the incident's state: no need to read it.
      open: reportsFailure
        ? undefined
        : (await deps.incidents.get(grantIncidentKey(grant.grantId)))?.status === "firing",
      reportsFailure,
      seenBy: "webhook",
      recentlyExpiredSecret: reportsFailure
        ? await recentlyExpiredConnectorSecret(deps.store, deps.clock.now())
        : undefined,
    },
    deps.config.nylas,
  );
  switch (change.action) {
    case "raise":
      await deps.incidents.raise(change.signal);
      deps.logger.warn(`grant ${grant.grantId} (${grant.provider}) expired: incident ${change.key} raised`);
      return "raised";
    case "resolve":
      await deps.incidents.resolve(change.key, change.note);
      deps.logger.info(`grant ${grant.grantId}: incident ${change.key} resolved (${change.note})`);
      return "resolved";
    case "none":
      return change.why === "not-open" ? "no-incident" : "still-invalid";
  }
}
