/**
 * What `watchdog grants` shows: every grant a person must act on — invalid
 * grants (the user must sign in again) — each with its re-authentication link.
 */
import type { Deps } from "../deps.js";
import { reauthLink } from "./reauth-link.js";

export interface AttentionGrant {
  grantId: string;
  email: string | null;
  provider: string;
  reason: "invalid";
  /** ISO 8601: when the user last authenticated. */
  lastAuthenticatedAt: string;
  reauthUrl: string | null;
}

export async function* listAttentionGrants(
  deps: Pick<Deps, "nylas" | "config">,
): AsyncGenerator<AttentionGrant> {
  for await (const grant of deps.nylas.listGrants({ grantStatus: "invalid", limit: 200 })) {
    yield {
      grantId: grant.id,
      email: grant.email ?? null,
      provider: grant.provider,
      reason: "invalid",
      lastAuthenticatedAt: new Date(grant.updatedAt * 1000).toISOString(),
      reauthUrl: grant.provider === "microsoft" ? (reauthLink(deps.config.nylas, grant.email) ?? null) : null,
    };
  }
}
