import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { OIDC_SCOPES, missingScopes, scopeKey } from "../../microsoft/identifiers.js";
import { cite, sources } from "../sources.js";

const EXAMPLES = 10;

/**
 * grants.scopes: valid Microsoft grants authenticated before the connector
 * asked for its current scopes lack them until the user signs in again —
 * "adding new scopes to a connector doesn't automatically update existing
 * grants" (seed 003). Streams the grants: memory stays flat.
 */
export async function checkGrantScopes(ctx: DoctorContext): Promise<CheckOutcome> {
  const connector = await ctx.needConnector();
  const { client } = await ctx.needNylas();
  // Microsoft often omits the OpenID scopes from what it reports as granted.
  const wanted = connector.scope.filter((s) => !OIDC_SCOPES.has(scopeKey(s)));
  let valid = 0;
  let invalid = 0;
  let behind = 0;
  const examples: { id: string; email: string | null; missing: string[] }[] = [];
  const missingAll = new Map<string, number>();
  for await (const grant of client.listGrants({ provider: "microsoft" })) {
    if (grant.grantStatus !== "valid") {
      invalid++;
      continue;
    }
    valid++;
    const missing = missingScopes(wanted, grant.scope);
    if (missing.length === 0) continue;
    behind++;
    for (const s of missing) missingAll.set(s, (missingAll.get(s) ?? 0) + 1);
    if (examples.length < EXAMPLES) examples.push({ id: grant.id, email: grant.email ?? null, missing });
  }
  const details = { valid, invalid, behind, missing: Object.fromEntries(missingAll), examples };
  const invalidNote =
    invalid > 0 ? `; ${invalid} invalid grant${invalid === 1 ? "" : "s"} (the sweep alerts on those)` : "";
  if (behind === 0) {
    return pass(
      `All ${valid} valid Microsoft grant${valid === 1 ? "" : "s"} carry the connector's scopes${invalidNote}.`,
      details,
    );
  }
  return problem(
    "warn",
    `${behind} of ${valid} valid Microsoft grant${valid === 1 ? "" : "s"} lack scope${missingAll.size === 1 ? "" : "s"} the connector now asks for (${[...missingAll.keys()].join(", ")}): they need re-authentication${invalidNote}.`,
    [
      `${cite.nylasAuthTroubleshooting}: “Adding new scopes to a connector doesn't automatically update existing grants. Users need to go through the auth flow again to issue a grant with the new scopes.”`,
      "Send each of these users a hosted-auth link (login_hint = their email re-authenticates the same grant); `watchdog grants` lists grants that need re-authentication with their links.",
    ].join("\n"),
    sources("nylasAuthTroubleshooting", "nylasForum45001"),
    details,
  );
}
