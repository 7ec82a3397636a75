// What the command runs is imported inside run(), so other commands never load it.
import { commandLogger, type Command } from "./main.js";

export const grantsCommand: Command = {
  name: "grants",
  summary: "grants a user must re-authenticate, with their links",
  usage: "grants [--json]",
  help: `
Lists the Nylas grants that need their user to sign in again: invalid grants
(now), valid Microsoft grants still on a superseded client secret (before
that secret expires: the deadline), and valid Microsoft grants missing scopes
added to the connector since they signed in — each with a hosted-auth re-authentication
link (login_hint = the user's email) when NYLAS_CLIENT_ID and
REAUTH_REDIRECT_URI are set.

--json prints one JSON document: {"schema":"secret-watchdog.grants/v1","grants":[…],"count":n,
"connector":{"activeCredentialId":…}}; each grant carries its Nylas credentialId.

Exit: 0 none · 1 some · 2 bad configuration · 3 Nylas unreachable.`,
  options: { json: { type: "boolean" } },
  async run({ io, values }) {
    const [{ loadConfig }, { createDeps }, { listAttentionGrants }] = await Promise.all([
      import("../config.js"),
      import("../deps.js"),
      import("../grants/list-attention-grants.js"),
    ]);
    const deps = createDeps(loadConfig(io.env), commandLogger(io, values));
    let count = 0;
    if (values.json === true) {
      io.out('{"schema":"secret-watchdog.grants/v1","grants":[');
      for await (const g of listAttentionGrants(deps))
        io.out(`${count++ === 0 ? "\n" : ",\n"}${JSON.stringify(g)}`);
      const connector = await deps.nylas.getMicrosoftConnector();
      io.out(
        `\n],"count":${count},"connector":${JSON.stringify({ activeCredentialId: connector?.activeCredentialId ?? null })}}\n`,
      );
    } else {
      for await (const g of listAttentionGrants(deps)) {
        if (count++ === 0) io.out("Grants whose user must sign in again:\n");
        io.out(
          `  ${g.email ?? "(no email)"}  grant ${g.grantId}  ${g.provider}  ${g.reason === "invalid" ? "INVALID" : g.reason === "on-superseded-secret" ? `on a superseded secret, deadline ${g.deadline ?? "unknown"}` : "missing scopes"}${g.missingScopes.length > 0 ? ` (lacks ${g.missingScopes.join(", ")})` : ""}, last signed in ${g.lastAuthenticatedAt}\n` +
            (g.reauthUrl ? `    re-authenticate: ${g.reauthUrl}\n` : ""),
        );
      }
      io.out(
        count === 0 ? "No grant needs re-authentication.\n" : `${count} grant(s) need re-authentication.\n`,
      );
      if (count > 0 && deps.config.nylas.clientId === undefined) {
        io.out("Set NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI to get a re-authentication link per user.\n");
      }
    }
    return count === 0 ? 0 : 1;
  },
};
