/**
 * What `watchdog grants` shows: every grant whose user must act —
 * invalid grants (sign in again now), and valid Microsoft grants still on a
 * superseded client secret (sign in again before that secret expires) — each
 * with its re-authentication link.
 */
import type { Deps } from "../deps.js";
import { reauthLink } from "./reauth-link.js";
import { loadMigrationTracker } from "../rotation/migration-state.js";

export interface AttentionGrant {
  grantId: string;
  email: string | null;
  provider: string;
  reason: "invalid" | "on-superseded-secret";
  /** ISO 8601: when the user last authenticated. */
  lastAuthenticatedAt: string;
  /** For grants on a superseded secret: when they stop working unless re-authenticated. */
  deadline: string | null;
  reauthUrl: string | null;
}

export async function* listAttentionGrants(
  deps: Pick<Deps, "nylas" | "config" | "state">,
): AsyncGenerator<AttentionGrant> {
  const link = (provider: string, email: string | undefined) =>
    provider === "microsoft" ? (reauthLink(deps.config.nylas, email) ?? null) : null;
  for await (const grant of deps.nylas.listGrants({ grantStatus: "invalid", limit: 200 })) {
    yield {
      grantId: grant.id,
      email: grant.email ?? null,
      provider: grant.provider,
      reason: "invalid",
      lastAuthenticatedAt: new Date(grant.updatedAt * 1000).toISOString(),
      deadline: null,
      reauthUrl: link(grant.provider, grant.email),
    };
  }
  const tracker = await loadMigrationTracker(await deps.state());
  if (!tracker.active) return;
  for await (const grant of deps.nylas.listGrants({
    provider: "microsoft",
    grantStatus: "valid",
    limit: 200,
  })) {
    const dep = tracker.consider(grant);
    if (dep === undefined) continue;
    yield {
      grantId: grant.id,
      email: grant.email ?? null,
      provider: grant.provider,
      reason: "on-superseded-secret",
      lastAuthenticatedAt: new Date(grant.updatedAt * 1000).toISOString(),
      deadline: dep.deadline,
      reauthUrl: link(grant.provider, grant.email),
    };
  }
}
