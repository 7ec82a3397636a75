/**
 * The grant-side passes bound to the shared deps: what the `nylasWebhook` and
 * `grantSweep` triggers (and the CLI's `sweep`) call. They take the few ports
 * they use (GrantPassPorts); the Deps that deps.ts builds is one.
 */
import type { GrantPassPorts } from "./ports.js";
import { handleNylasWebhook, type WebhookInput, type WebhookOutput } from "./handle-nylas-webhook.js";
import { runGrantSweep, type SweepResult } from "./sweep.js";

export async function receiveNylasWebhook(deps: GrantPassPorts, input: WebhookInput): Promise<WebhookOutput> {
  return handleNylasWebhook(input, {
    config: deps.config,
    clock: deps.clock,
    logger: deps.logger,
    store: deps.store,
    nylas: deps.nylas,
    // Built only for a verified notification: forged requests touch nothing.
    incidents: {
      raise: async (signal) => (await deps.incidents()).raise(signal),
      resolve: async (key, note) => (await deps.incidents()).resolve(key, note),
      get: async (key) => (await deps.incidents()).get(key),
    },
    // The process's one background drain: the answer waits for it a little, and it goes on after.
    deliverPending: async (waitMs) => {
      await (await deps.incidents()).deliver({ background: true, deadlineMs: waitMs });
    },
  });
}

export async function sweepGrants(deps: GrantPassPorts): Promise<SweepResult> {
  const [state, incidents] = await Promise.all([deps.store(), deps.incidents()]);
  return runGrantSweep({
    config: deps.config,
    clock: deps.clock,
    logger: deps.logger,
    nylas: deps.nylas,
    store: state,
    incidents,
    deliverPending: async (deadlineMs) => {
      await incidents.deliver({ deadlineMs });
    },
  });
}
