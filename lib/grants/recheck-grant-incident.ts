/**
 * Asks Nylas about the grant behind an open incident (GET /v3/grants/{id}) and
 * the grant-state decision what that now means. The watchdog pass does it for
 * every open grant incident; the sweep for those whose grant its listing did
 * not show. A look-up never opens an incident: it resolves one or leaves it.
 */
import type { Config } from "../config.js";
import type { Incident } from "../incidents/incident.js";
import { grantIdOfIncidentKey, type GrantObserver } from "./grant-signals.js";
import { decideGrantState, grantStateOf, type GrantChange } from "./grant-state.js";
import type { GrantLookup } from "./ports.js";

/** The keys of the firing grant incidents, read in one pass over the store. */
export async function openGrantIncidentKeys(incidents: {
  open(): AsyncIterable<Incident>;
}): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const incident of incidents.open()) {
    if (incident.kind === "grant.invalid" && grantIdOfIncidentKey(incident.key) !== undefined)
      keys.add(incident.key);
  }
  return keys;
}

/** The change for the open incident `key`; undefined for a key that is not a grant incident's. */
export async function recheckGrantIncident(
  key: string,
  nylas: GrantLookup,
  config: Config["nylas"],
  seenBy: GrantObserver,
): Promise<GrantChange | undefined> {
  const grantId = grantIdOfIncidentKey(key);
  if (grantId === undefined) return undefined;
  const grant = grantStateOf(grantId, await nylas.getGrant(grantId));
  return decideGrantState({ grant, open: true, reportsFailure: false, seenBy }, config);
}
