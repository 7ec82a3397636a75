/**
 * Builds everything a pass needs from the config, once. Heavy SDKs are created
 * on first use (Graph + @azure/identity are most of the cold start), so the
 * webhook path, which needs neither, stays fast. Tests pass overrides instead of
 * mocking modules.
 */
import type { Config } from "./config.js";
import { systemClock, type Clock } from "./clock.js";
import { redactingLogger, type Logger } from "./logger.js";
import { outputRedactor, type Redactor } from "./redaction.js";
import { NylasClient } from "./clients/nylas.js";
import type { GraphClient } from "./clients/graph.js";
import type { StateStore } from "./state/store.js";
import type { IncidentManager } from "./incidents/incident-manager.js";
import type { GrantPassPorts, WatchdogPassPorts } from "./ports.js";

/** Every pass's ports at once: a pass declares what it takes (ports.ts), and Deps must provide it. */
export interface Deps extends WatchdogPassPorts, GrantPassPorts {
  config: Config;
  clock: Clock;
  logger: Logger;
  redactor: Redactor;
  nylas: NylasClient;
  graph: () => Promise<GraphClient>;
  store: () => Promise<StateStore>;
  /** Incidents and their delivery to the configured sinks. */
  incidents: () => Promise<IncidentManager>;
}

export interface DepsOverrides {
  clock?: Clock;
  graph?: () => Promise<GraphClient>;
  store?: () => Promise<StateStore>;
  /** Used by sinks (tests point it at local receivers). */
  fetch?: typeof fetch;
  /** Per Nylas request (default 30 s); tests shorten it to exercise late answers. */
  nylasTimeoutSeconds?: number;
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make().catch((error: unknown) => {
      // A failed construction (bad credential config) is retried on the next call, not cached forever.
      value = undefined;
      throw error;
    });
    return value;
  };
}

export function createDeps(config: Config, baseLogger: Logger, overrides: DepsOverrides = {}): Deps {
  // The process's redactor, so every output path (not only this logger) knows these settings' values.
  const redactor = outputRedactor;
  redactor.add(...config.secretValues);
  const logger = redactingLogger(baseLogger, redactor);
  const clock = overrides.clock ?? systemClock;
  const nylas = new NylasClient({
    apiKey: config.nylas.apiKey,
    apiUri: config.nylas.apiUri,
    clock,
    logger,
    ...(overrides.nylasTimeoutSeconds !== undefined ? { timeoutSeconds: overrides.nylasTimeoutSeconds } : {}),
  });
  const graph =
    overrides.graph ??
    once(async () => {
      const [{ createGraphCredential }, { GraphClient }] = await Promise.all([
        import("./clients/credential.js"),
        import("./clients/graph.js"),
      ]);
      return GraphClient.create({
        // Token waits on the pass's clock, like every other wait (tests move it; a pass deadline reads it).
        credential: await createGraphCredential(config.azure, {
          sleep: (ms, abort) => clock.sleep(ms, abort),
        }),
        endpoint: config.azure.graphEndpoint,
        clock,
        logger,
      });
    });
  const store =
    overrides.store ??
    once(async () => {
      const { createStateStore } = await import("./state/create-store.js");
      return createStateStore(config.state, { logger, clock });
    });
  const incidents = once(async () => {
    const [{ IncidentManager }, { Outbox }, { createSinks }] = await Promise.all([
      import("./incidents/incident-manager.js"),
      import("./incidents/outbox.js"),
      import("./incidents/sinks/create-sinks.js"),
    ]);
    const stateStore = await store();
    const outbox = new Outbox({
      store: stateStore,
      clock,
      logger,
      sinks: createSinks(config.alerts.sinks),
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    });
    return new IncidentManager({
      store: stateStore,
      clock,
      logger,
      repeatHours: config.alerts.repeatHours,
      outbox,
      pagerDutyMinSeverity: config.alerts.pagerDutyMinSeverity,
    });
  });
  return { config, clock, logger, redactor, nylas, graph, store, incidents };
}
