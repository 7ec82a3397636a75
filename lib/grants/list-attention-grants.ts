/**
 * What `watchdog grants` shows: every grant whose user must act —
 * invalid grants (sign in again now), valid Microsoft grants still on a
 * superseded client secret (before that secret expires), and valid Microsoft
 * grants that lack scopes the connector now asks for (seed 003: "adding new
 * scopes to a connector doesn't automatically update existing grants") — each
 * with its re-authentication link.
 */
import type { GrantPassPorts } from "./ports.js";
import { reauthLink } from "../microsoft/reauth-link.js";
import { loadMigrationTracker } from "../rotation/migration-state.js";
import { OIDC_SCOPES, missingScopes, scopeKey } from "../microsoft/identifiers.js";

export interface AttentionGrant {
  grantId: string;
  email: string | null;
  provider: string;
  reason: "invalid" | "on-superseded-secret" | "missing-scopes";
  /** Connector scopes the grant lacks (OpenID scopes aside, which Microsoft often leaves out). */
  missingScopes: string[];
  /** ISO 8601: when the user last authenticated. */
  lastAuthenticatedAt: string;
  /** For grants on a superseded secret: when they stop working unless re-authenticated. */
  deadline: string | null;
  reauthUrl: string | null;
  /** The Nylas credential the grant uses (`credential_id`), when Nylas reports one. */
  credentialId: string | null;
}

export async function* listAttentionGrants(
  deps: Pick<GrantPassPorts, "nylas" | "config" | "store">,
): AsyncGenerator<AttentionGrant> {
  const link = (provider: string, email: string | undefined) =>
    provider === "microsoft" ? (reauthLink(deps.config.nylas, email) ?? null) : null;
  for await (const grant of deps.nylas.listGrants({ grantStatus: "invalid", limit: 200 })) {
    yield {
      grantId: grant.id,
      email: grant.email ?? null,
      provider: grant.provider,
      reason: "invalid",
      missingScopes: [],
      lastAuthenticatedAt: new Date(grant.updatedAt * 1000).toISOString(),
      deadline: null,
      reauthUrl: link(grant.provider, grant.email),
      credentialId: grant.credentialId ?? null,
    };
  }
  const tracker = await loadMigrationTracker(
    await deps.store(),
    deps.config.rotation.switchMarginMinutes * 60,
  );
  const connector = await deps.nylas.getMicrosoftConnector();
  const wanted = (connector?.scope ?? []).filter((s) => !OIDC_SCOPES.has(scopeKey(s)));
  if (!tracker.active && wanted.length === 0) return;
  for await (const grant of deps.nylas.listGrants({
    provider: "microsoft",
    grantStatus: "valid",
    limit: 200,
  })) {
    const dep = tracker.consider(grant);
    const missing = missingScopes(wanted, grant.scope);
    if (dep === undefined && missing.length === 0) continue;
    yield {
      grantId: grant.id,
      email: grant.email ?? null,
      provider: grant.provider,
      reason: dep !== undefined ? "on-superseded-secret" : "missing-scopes",
      missingScopes: missing,
      lastAuthenticatedAt: new Date(grant.updatedAt * 1000).toISOString(),
      deadline: dep?.deadline ?? null,
      reauthUrl: link(grant.provider, grant.email),
      credentialId: grant.credentialId ?? null,
    };
  }
}
