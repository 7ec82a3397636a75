/**
 * The capabilities the grant passes (webhook processing, the sweep, `watchdog
 * grants`) use, and nothing more. They live here, on the grants floor, because
 * lib/grants/ may not import upward (test/docs/import-directions.test.ts);
 * lib/ports.ts gathers them with the watchdog pass's, and deps.ts alone builds
 * them: its Deps satisfies every one, so callers keep passing `deps`.
 */
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { NylasClient, NylasGrant } from "../clients/nylas.js";
import type { IncidentManager } from "../incidents/incident-manager.js";
import type { Incident, Signal } from "../incidents/incident.js";

/** Settings, time, and where the lines go: every pass has them. */
export interface BasePorts {
  config: Config;
  clock: Clock;
  logger: Logger;
}

/** One grant as Nylas holds it now; undefined when Nylas no longer has it. */
export interface GrantLookup {
  getGrant(grantId: string): Promise<NylasGrant | undefined>;
}

/** Every grant, a page at a time, and one grant. */
export interface GrantListing extends GrantLookup {
  listGrantPages: NylasClient["listGrantPages"];
}

/** The part of the incident manager grant handling needs. */
export interface IncidentPort {
  raise(signal: Signal): Promise<unknown>;
  resolve(key: string, note: string): Promise<unknown>;
  get(key: string): Promise<Incident | undefined>;
}

/** An incident port that can also list what is firing (the sweep, the pass). */
export interface OpenIncidentPort extends IncidentPort {
  open(): AsyncIterable<Incident>;
}

/** What the grant passes take from the composition root: built lazily, as Deps holds them. */
export interface GrantPassPorts extends BasePorts {
  nylas: GrantListing & Pick<NylasClient, "listGrants" | "getMicrosoftConnector">;
  store: () => Promise<StateStore>;
  /** Incidents and their delivery. */
  incidents: () => Promise<Pick<IncidentManager, "raise" | "resolve" | "get" | "open" | "deliver">>;
}
