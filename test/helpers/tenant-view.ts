/**
 * What the simulated tenant looks like after a pass, for the rotation tests:
 * the connector's app, the keys on it, the Graph and Nylas writes the product
 * sent, and which grants Nylas would turn invalid now.
 */
import type { World } from "./world.js";

export const connectorApp = (w: World) => w.sim.tenant.appByAppId(w.sim.nylasApp!.appId)!;

export const keyIdsOnApp = (w: World) => connectorApp(w).passwordCredentials.map((p) => p.keyId);

/** removePassword calls that Graph accepted. */
export const acceptedRemoves = (w: World) =>
  w.sim.requests.filter(
    (r) => r.service === "graph" && r.path.endsWith("/removePassword") && r.status > 0 && r.status < 300,
  );

/** Runs Nylas' refresh cycle: every grant whose secret is gone or expired turns invalid. */
export async function invalidGrantsAfterRefresh(w: World): Promise<string[]> {
  await w.sim.nylas.tick();
  return w.sim.tenant.nylas.grants.filter((g) => g.grant_status !== "valid").map((g) => g.email);
}

/** The generic webhook's grant.reauth_requested events. */
export const reauthRequests = (w: World) =>
  (w.sim.sinks.json("webhook") as { event: string; grant?: { email: string } }[]).filter(
    (e) => e.event === "grant.reauth_requested",
  );

/**
 * Grants whose Azure secret is gone from the app: the outage this product must never cause. (A grant
 * whose secret merely expired because its user never signed in again is the other failure, which the
 * migration incident pages about; it is not this.)
 */
export function grantsOnRemovedKeys(w: World): string[] {
  const present = new Set(keyIdsOnApp(w));
  return w.sim.tenant.nylas.grants
    .filter((g) => g.secretKeyId !== undefined && !present.has(g.secretKeyId))
    .map((g) => g.email);
}
