/**
 * The capabilities the rotation steps use, and nothing more: the composition
 * root (deps.ts) builds them; a step never sees the whole Deps.
 */
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphClient } from "../clients/graph.js";
import type { NylasClient } from "../clients/nylas.js";

export interface RotationPorts {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: StateStore;
  graph: GraphClient;
  nylas: NylasClient;
}
