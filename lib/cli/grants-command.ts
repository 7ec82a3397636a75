// What the command runs is imported inside run(), so other commands never load it.
import type { Deps } from "../deps.js";
import type { AttentionGrant } from "../grants/list-attention-grants.js";
import { failureOf, type Problem } from "./failure.js";
import type { CliIo } from "./io.js";
import { commandLogger, type Command } from "./main.js";

/** The `--json` document's schema: versioned, so automation can tell a shape change. */
export const GRANTS_SCHEMA = "secret-watchdog.grants/v1";

function reauthProblem(count: number): Problem[] {
  if (count === 0) return [];
  return [
    {
      code: "grants.reauth",
      message: `${count} grant(s) need their user to sign in again.`,
      fix: "Send each user the grant's reauthUrl (set NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI to get one), or ask them to reconnect their account in your app.",
    },
  ];
}

/**
 * Streams `{"schema":…,"grants":[…],…}`; a read that stops part-way still ends it as one complete
 * document, with the grants it had listed.
 */
async function writeJson(io: CliIo, deps: Deps, list: AsyncIterable<AttentionGrant>): Promise<0 | 1> {
  let count = 0;
  io.out(`{"schema":"${GRANTS_SCHEMA}","grants":[`);
  try {
    for await (const g of list) io.out(`${count++ === 0 ? "\n" : ",\n"}${JSON.stringify(g)}`);
    const connector = await deps.nylas.getMicrosoftConnector();
    const code = count === 0 ? 0 : 1;
    io.out(
      `\n],"count":${count},"complete":true,"connector":${JSON.stringify({ activeCredentialId: connector?.activeCredentialId ?? null })},"problems":${JSON.stringify(reauthProblem(count))},"exitCode":${code}}\n`,
    );
    return code;
  } catch (error) {
    const failure = failureOf("grants", error);
    io.out(
      `\n],"count":${count},"complete":false,"problems":${JSON.stringify([...reauthProblem(count), ...failure.problems])},"exitCode":${failure.exitCode}}\n`,
    );
    throw error;
  }
}

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
"complete":true,"connector":{"activeCredentialId":…},"problems":[…],"exitCode":n}; each grant
carries its Nylas credentialId. A read that stops part-way still prints one document
("complete":false, with the grants listed so far and the problem).

Exit: 0 none · 1 some · 2 bad configuration · 3 Nylas unreachable.`,
  options: { json: { type: "boolean" } },
  async run({ io, values }) {
    const [{ loadConfig }, { createDeps }, { listAttentionGrants }] = await Promise.all([
      import("../config.js"),
      import("../deps.js"),
      import("../grants/list-attention-grants.js"),
    ]);
    const deps = createDeps(loadConfig(io.env), commandLogger(io, values));
    if (values.json === true) return writeJson(io, deps, listAttentionGrants(deps));
    let count = 0;
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
    return count === 0 ? 0 : 1;
  },
};
