/**
 * The capabilities each pass takes, in one place: a pass names the few it uses
 * (store, graph, nylas, incidents, clock, config) instead of the whole
 * composition root, and deps.ts alone builds them — its Deps extends every set
 * here, so callers keep passing `deps`. The grant passes declare theirs on
 * their own floor (lib/grants/ports.ts, since lib/grants may not import
 * upward) and the rotation steps theirs in lib/rotation/ports.ts; both are
 * re-exported here.
 */
import type { GraphClient } from "./clients/graph.js";
import type { NylasClient } from "./clients/nylas.js";
import type { StateStore } from "./state/store.js";
import type { IncidentManager } from "./incidents/incident-manager.js";
import type { BasePorts } from "./grants/ports.js";

export type {
  BasePorts,
  GrantListing,
  GrantLookup,
  GrantPassPorts,
  IncidentPort,
  OpenIncidentPort,
} from "./grants/ports.js";
export type { RotationPorts } from "./rotation/ports.js";

/** What the watchdog pass takes. Graph and the incidents are built on first use (most of a cold start). */
export interface WatchdogPassPorts extends BasePorts {
  nylas: NylasClient;
  graph: () => Promise<GraphClient>;
  store: () => Promise<StateStore>;
  /** Incidents and their delivery. */
  incidents: () => Promise<IncidentManager>;
}
