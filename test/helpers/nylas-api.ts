/**
 * Raw calls to the simulated Nylas API, as a user's own code would make them
 * (the product's client is what is under test elsewhere): the API with the
 * application's key, and the hosted-auth code exchange an application's
 * callback performs (docs/reauth-callback.md).
 */
import type { Simulator } from "../../lib/sim/index.js";

export async function nylasApi(
  sim: Simulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sim.nylasRegionUrl()}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${sim.tenant.nylas.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
