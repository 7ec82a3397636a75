/**
 * The simulator's live data model: one Entra tenant (apps, service principals,
 * consents, app role assignments) and the Nylas application that signs its
 * users in. Plain objects with exported types, so tests arrange a scenario by
 * mutating them directly; the helper methods keep the lookup indexes right.
 * After editing maps or arrays by hand, call `touch()`.
 */
import type { Clock } from "../clock.js";
import { newGuid, newSecretText } from "./ids.js";
import {
  EXCHANGE_APP_ID,
  EXCHANGE_SCOPES,
  GRAPH_APP_ID,
  GRAPH_APP_ROLES,
  GRAPH_SCOPES,
} from "./well-known.js";

/** Who may sign in to an app; the two personal-account audiences allow only 2 secrets. */
export type SignInAudience =
  "AzureADMyOrg" | "AzureADMultipleOrgs" | "AzureADandPersonalMicrosoftAccount" | "PersonalMicrosoftAccount";

/** Graph `passwordCredential` plus what only Entra knows (`value`, `createdAt`). */
export interface SimPassword {
  keyId: string;
  displayName: string | null;
  /** ISO 8601 UTC. */
  startDateTime: string;
  /** ISO 8601 UTC. */
  endDateTime: string;
  /** First three characters of the value. */
  hint: string;
  customKeyIdentifier: null;
  /** Internal: the secret value. Only the addPassword response ever shows it (as `secretText`). */
  value: string;
  /** Internal: when Entra stored it; the propagation delay runs from here. */
  createdAt: Date;
}

/** Graph `keyCredential` (certificate) metadata; the key itself is not modelled. */
export interface SimKeyCredential {
  keyId: string;
  displayName: string | null;
  startDateTime: string;
  endDateTime: string;
  type: "AsymmetricX509Cert" | "Symmetric" | "X509CertAndPassword";
  usage: "Verify" | "Sign";
  customKeyIdentifier: string | null;
}

/** A platform's redirect URIs (web, spa, publicClient). */
export interface SimRedirects {
  redirectUris: string[];
}

/** Permissions an app requests from one resource (Graph `requiredResourceAccess`). */
export interface SimRequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: "Scope" | "Role" }[];
}

/** An app registration (Graph `application`). */
export interface SimApp {
  /** Object id. */
  id: string;
  /** Application (client) id. */
  appId: string;
  displayName: string;
  signInAudience: SignInAudience;
  createdDateTime: string;
  passwordCredentials: SimPassword[];
  keyCredentials: SimKeyCredential[];
  web: SimRedirects;
  spa: SimRedirects;
  publicClient: SimRedirects;
  requiredResourceAccess: SimRequiredResourceAccess[];
  /** Object ids of the owners (service principals, or users). */
  owners: string[];
}

/** A delegated permission a resource exposes. */
export interface SimPermissionScope {
  id: string;
  value: string;
  type: "User" | "Admin";
}

/** An application permission a resource exposes. */
export interface SimAppRole {
  id: string;
  value: string;
}

/** A service principal (enterprise application). */
export interface SimServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  servicePrincipalType: "Application" | "ManagedIdentity" | "Legacy";
  /** Tenant that owns the app registration; Microsoft's for first-party apps. */
  appOwnerOrganizationId: string | null;
  accountEnabled: boolean;
  oauth2PermissionScopes: SimPermissionScope[];
  appRoles: SimAppRole[];
}

/** A delegated-permission consent (Graph `oAuth2PermissionGrant`). */
export interface SimOAuth2PermissionGrant {
  id: string;
  /** Object id of the client's service principal. */
  clientId: string;
  consentType: "AllPrincipals" | "Principal";
  principalId: string | null;
  /** Object id of the resource's service principal (e.g. Microsoft Graph). */
  resourceId: string;
  /** Space-separated scope values. */
  scope: string;
}

/** An application-permission grant (Graph `appRoleAssignment`). */
export interface SimAppRoleAssignment {
  id: string;
  /** Object id of the service principal that holds the role. */
  principalId: string;
  /** Object id of the resource service principal (Microsoft Graph). */
  resourceId: string;
  appRoleId: string;
  createdDateTime: string;
}

/** The AADSTS code a refused client secret gets: invalid (7000215) or expired (7000222). */
export type SecretRefusalCode = "7000215" | "7000222";

/**
 * Why Entra refuses a client secret, or that it accepts it. "replica_lag": the
 * secret was accepted before but this request reached a replica that does not
 * have it yet (see `SimTenant.propagationFlaps`). `code` is the AADSTS error a
 * token request gets, when it is not the usual one for the reason.
 */
export type SecretCheck =
  | { ok: true; password: SimPassword }
  | {
      ok: false;
      reason: "invalid" | "expired" | "not_propagated" | "not_yet_valid" | "replica_lag";
      password?: SimPassword;
      code?: SecretRefusalCode;
    };

/**
 * Replicas disagreeing while a new secret propagates: from the first token
 * request that accepts a secret created by `createPassword` (Graph
 * addPassword), `acceptsBeforeRefusals` requests (default 1, the first one
 * included) are accepted, then the next `refusalsAfterFirstAccept` are refused
 * with `code` (default "7000215"), and only then is the secret accepted for good.
 */
export interface PropagationFlaps {
  refusalsAfterFirstAccept: number;
  acceptsBeforeRefusals?: number;
  code?: SecretRefusalCode;
}

/** Graph's throttle on reads that `$select` keyCredentials: at most `perMinute` per clock minute. */
export interface KeyCredentialsThrottle {
  perMinute: number;
}

/** One authentication with a client secret, as Entra's sign-in activity report counts it. */
export interface SimSignIn {
  /** appId of the application the secret belongs to. */
  appId: string;
  keyId: string;
  at: Date;
  /** The request id of the token request (what the report shows as `lastSignInRequestId`). */
  requestId: string;
  /** Object id of the resource service principal the token was for (Microsoft Graph). */
  resourceId: string | null;
}

/**
 * How `GET /beta/reports/appCredentialSignInActivities` behaves: "ok" answers
 * (to callers holding AuditLog.Read.All or Directory.Read.All), "forbidden"
 * answers 403 Authorization_RequestDenied to everyone, "unlicensed" answers
 * 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant. A sign-in shows
 * in the report only `delayMs` (by the clock) after it happened.
 */
export interface SignInReportSettings {
  mode: "ok" | "forbidden" | "unlicensed";
  delayMs: number;
}

// ---------------------------------------------------------------- Nylas

/** Nylas data-residency region. */
export type NylasRegion = "us" | "eu";

/** The Microsoft connector's `settings` object, exactly as last PATCHed. */
export interface SimConnectorSettings {
  client_id?: string;
  tenant?: string;
  /** Write-only: GET never returns it. */
  client_secret?: string;
  [key: string]: unknown;
}

/** The Nylas Microsoft connector. */
export interface SimConnector {
  /** Internal: the "integration id" that notifications carry. */
  id: string;
  provider: "microsoft";
  name: string;
  settings: SimConnectorSettings;
  scope: string[];
  active_credential_id?: string;
}

/** Nylas `grant_status`. */
export type GrantStatus = "valid" | "invalid";

/** The Nylas Grant object plus what only Nylas knows (the refresh token's dependency). */
export interface SimGrant {
  id: string;
  provider: string;
  grant_status: GrantStatus;
  email: string;
  name?: string;
  scope: string[];
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds: when the user last authenticated. */
  updated_at: number;
  settings?: Record<string, unknown>;
  credential_id?: string;
  provider_user_id?: string;
  state?: string;
  /**
   * Internal: keyId of the Azure secret the grant was authenticated with. Its
   * refresh token keeps working only while that secret exists and is unexpired.
   */
  secretKeyId?: string;
  /** Internal: the Azure app (connector client_id) the grant was authenticated with. */
  clientId?: string;
}

/**
 * What a connector secret change does to existing grants. "bound" (default):
 * a grant keeps refreshing with the secret it was authenticated with (Nylas:
 * changing the secret "will not affect existing connected accounts").
 * "moved": a connector PATCH that sets `settings.client_secret` to another
 * secret of the connector's app moves every valid grant of that app onto it.
 */
export type SecretBinding = "bound" | "moved";

/**
 * A server-side cap on grant pages: `GET /v3/grants` returns at most `max`
 * grants however large `limit` is, and its `limit` field echoes either the
 * page size actually used ("cap") or the requested limit ("requested").
 */
export interface GrantPageCap {
  max: number;
  echo: "cap" | "requested";
}

/** Called at the start of every `GET /v3/grants`; `pageIndex` counts those requests from 0. */
export type BeforeGrantsPageHook = (query: URLSearchParams, pageIndex: number) => void;

/** Nylas webhook destination status. */
export type WebhookStatus = "active" | "pause" | "failing" | "failed";

/**
 * How the simulator writes `x-nylas-signature` (the hex HMAC-SHA256 is the same):
 * "plain" lower-case hex as documented; "upper" upper-case hex; "prefixed"
 * `sha256=<hex>`; "padded" the hex with surrounding spaces (HTTP stacks trim
 * those, so only a receiver fed the header map directly sees them). Nylas's
 * own receiver (nylas/cli webhookserver `NormalizeSignature`) accepts all four.
 */
export type SignatureStyle = "plain" | "upper" | "prefixed" | "padded";

/** A Nylas webhook destination. */
export interface SimWebhook {
  id: string;
  description?: string;
  trigger_types: string[];
  webhook_url: string;
  status: WebhookStatus;
  notification_email_addresses: string[];
  /** Returned only when created (or rotated); used to sign notifications. */
  webhook_secret: string;
  /** Gzip each notification (`Content-Encoding: gzip`), signed over the gzip bytes. Default false. */
  compressed_delivery?: boolean;
  created_at: number;
  updated_at: number;
  /** When `status` last changed (set by a PUT of `status` or by the simulator's health drift). */
  status_updated_at?: number;
  /** Simulation only, never rendered: how this destination's signatures are written. Default "plain". */
  signatureStyle?: SignatureStyle;
}

const toIso = (d: Date): string => d.toISOString();
const DAY_MS = 86_400_000;
const DEFAULT_TRIGGER_TYPES = ["grant.created", "grant.updated", "grant.deleted", "grant.expired"];
/** A key's sign-in history is pruned beyond this many entries… */
const SIGN_IN_PRUNE_AT = 256;
/** …and never holds more than this. */
const SIGN_IN_MAX = 10_000;

/** The Nylas application of the simulated tenant. */
export class SimNylas {
  apiKey: string;
  /** The Nylas application id, a.k.a. the hosted-auth `client_id`. */
  applicationId: string;
  organizationId: string;
  region: NylasRegion;
  connector: SimConnector | undefined;
  /** Hosted-auth redirect URIs registered on the Nylas application. */
  callbackUris: string[];
  /** All grants; add and remove with the helpers so the indexes follow. */
  readonly grants: SimGrant[] = [];
  readonly webhooks: SimWebhook[] = [];
  /** What a connector secret change does to existing grants. Default "bound". */
  secretBinding: SecretBinding = "bound";
  /** A server-side cap on `GET /v3/grants` page size. Default none. */
  grantPageCap: GrantPageCap | undefined = undefined;
  /**
   * `GET /v3/grants` answers 400 to a query parameter the spec does not list
   * (`GRANTS_QUERY_PARAMETERS`). Default true.
   */
  strictGrantQuery = true;
  /**
   * Hosted auth completes only when the application's callback exchanges the
   * `code` at `POST /v3/connect/token`: until then a re-authenticated grant
   * keeps its status and secret, a new one does not exist, and no notification
   * is sent. `NylasControl.signIn` performs the exchange itself. Default true,
   * as Nylas does ("Creating grants with Hosted Authentication and an API
   * key"); false: the grant changes as soon as the user finishes.
   */
  requireCodeExchange = true;

  readonly #clock: Clock;
  readonly #byId = new Map<string, SimGrant>();
  readonly #byEmail = new Map<string, SimGrant>();
  #version = 0;
  #indexedVersion = -1;
  #indexedLength = -1;
  readonly #sorted = new Map<string, { version: number; length: number; list: SimGrant[] }>();
  readonly #tenant: SimTenant;
  #beforeGrantsPage: BeforeGrantsPageHook | undefined;
  #grantsPages = 0;

  constructor(tenant: SimTenant, clock: Clock) {
    this.#tenant = tenant;
    this.#clock = clock;
    this.apiKey = `nyk_v0_sim${newGuid().replaceAll("-", "")}`;
    this.applicationId = newGuid();
    this.organizationId = newGuid();
    this.region = "us";
    this.connector = undefined;
    this.callbackUris = ["https://app.example.test/nylas/callback"];
  }

  /** Invalidates the lookup indexes and sorted views after hand edits of `grants`. */
  touch(): void {
    this.#version++;
    this.#indexedVersion = -1;
  }

  /**
   * Invalidates only the sorted views: for changes to grants' fields (status,
   * updated_at) that leave ids and emails alone, so the indexes stay warm.
   */
  markChanged(): void {
    this.#version++;
  }

  /**
   * Runs at the start of every `GET /v3/grants` (before the page is read), so a
   * test can delete or re-authenticate grants between pages. Setting it (even
   * to the same function) restarts `pageIndex` at 0. Default none.
   */
  get beforeGrantsPage(): BeforeGrantsPageHook | undefined {
    return this.#beforeGrantsPage;
  }

  set beforeGrantsPage(hook: BeforeGrantsPageHook | undefined) {
    this.#beforeGrantsPage = hook;
    this.#grantsPages = 0;
  }

  /** Internal (the grants endpoint): calls `beforeGrantsPage`, if set, with the next page index. */
  startGrantsPage(query: URLSearchParams): void {
    const hook = this.#beforeGrantsPage;
    if (hook === undefined) return;
    hook(query, this.#grantsPages++);
  }

  /** Current change counter (bumped by every helper that changes grants). */
  get version(): number {
    return this.#version;
  }

  #reindex(): void {
    if (this.#indexedVersion >= 0 && this.#indexedLength === this.grants.length) return;
    this.#byId.clear();
    this.#byEmail.clear();
    for (const grant of this.grants) {
      this.#byId.set(grant.id, grant);
      this.#byEmail.set(grant.email.toLowerCase(), grant);
    }
    this.#indexedVersion = this.#version;
    this.#indexedLength = this.grants.length;
  }

  #index(grant: SimGrant): void {
    this.#byId.set(grant.id, grant);
    this.#byEmail.set(grant.email.toLowerCase(), grant);
  }

  grantById(id: string): SimGrant | undefined {
    this.#reindex();
    return this.#byId.get(id);
  }

  grantByEmail(email: string): SimGrant | undefined {
    this.#reindex();
    return this.#byEmail.get(email.toLowerCase());
  }

  /**
   * Adds a grant. Defaults: Microsoft, valid, created now, the connector's
   * scopes and `active_credential_id` (as `credential_id`), and authenticated
   * with the connector's current secret.
   */
  addGrant(partial: Partial<SimGrant> & { email: string }): SimGrant {
    if (this.grantByEmail(partial.email)) {
      throw new Error(`a grant for ${partial.email} exists already (Nylas keeps one grant per email)`);
    }
    const current = this.#tenant.connectorSecret();
    const grant = this.#withDefaults(partial, Math.floor(this.#clock.now().getTime() / 1000));
    const secretKeyId = partial.secretKeyId ?? current?.password?.keyId;
    const clientId = partial.clientId ?? current?.app?.appId ?? this.connector?.settings.client_id;
    if (secretKeyId !== undefined) grant.secretKeyId = secretKeyId;
    if (clientId !== undefined) grant.clientId = clientId;
    this.grants.push(grant);
    // Kept incrementally: rebuilding per add would make seeding 50,000 grants quadratic.
    this.#index(grant);
    this.#indexedLength = this.grants.length;
    this.markChanged();
    return grant;
  }

  #withDefaults(partial: Partial<SimGrant> & { email: string }, now: number): SimGrant {
    const credentialId = partial.credential_id ?? this.connector?.active_credential_id;
    return {
      id: partial.id ?? newGuid(),
      provider: partial.provider ?? "microsoft",
      grant_status: partial.grant_status ?? "valid",
      email: partial.email,
      name: partial.name ?? nameFromEmail(partial.email),
      scope: partial.scope ?? [...(this.connector?.scope ?? [])],
      created_at: partial.created_at ?? now,
      updated_at: partial.updated_at ?? partial.created_at ?? now,
      ...(partial.settings ? { settings: partial.settings } : {}),
      ...(credentialId !== undefined ? { credential_id: credentialId } : {}),
      provider_user_id: partial.provider_user_id ?? newGuid(),
      ...(partial.state ? { state: partial.state } : {}),
    };
  }

  /** Removes a grant (no notification; see the simulator's `nylas.deleteGrant` for that). */
  removeGrant(id: string): SimGrant | undefined {
    const index = this.grants.findIndex((g) => g.id === id);
    if (index < 0) return undefined;
    const [removed] = this.grants.splice(index, 1);
    if (removed) {
      this.#byId.delete(removed.id);
      if (this.#byEmail.get(removed.email.toLowerCase()) === removed)
        this.#byEmail.delete(removed.email.toLowerCase());
    }
    this.#indexedLength = this.grants.length;
    this.markChanged();
    return removed;
  }

  /**
   * Grants sorted by `sortBy`, ascending or descending, ties in insertion
   * order either way; cached until the next change so paging through 50,000
   * grants does not sort per page.
   */
  sortedGrants(sortBy: "created_at" | "updated_at", order: "asc" | "desc" = "asc"): readonly SimGrant[] {
    const key = `${sortBy}:${order}`;
    const cached = this.#sorted.get(key);
    if (cached && cached.version === this.#version && cached.length === this.grants.length)
      return cached.list;
    // Array.prototype.sort is stable: equal keys keep their insertion order.
    const list = [...this.grants].sort((a, b) =>
      order === "asc" ? a[sortBy] - b[sortBy] : b[sortBy] - a[sortBy],
    );
    this.#sorted.set(key, { version: this.#version, length: this.grants.length, list });
    return list;
  }

  /**
   * What a "moved" secret binding does on a connector secret change: every
   * valid grant authenticated through app `clientId` now refreshes with
   * `keyId`. Returns the grants moved.
   */
  rebindGrants(clientId: string, keyId: string): SimGrant[] {
    const moved: SimGrant[] = [];
    const id = clientId.toLowerCase();
    for (const grant of this.grants) {
      if (grant.grant_status !== "valid" || grant.clientId?.toLowerCase() !== id) continue;
      if (grant.secretKeyId !== keyId) {
        grant.secretKeyId = keyId;
        moved.push(grant);
      }
    }
    return moved;
  }

  /** Registers a webhook destination directly (no challenge), returning it with its secret. */
  addWebhook(partial: Partial<SimWebhook> & { webhook_url: string }): SimWebhook {
    const now = Math.floor(this.#clock.now().getTime() / 1000);
    const webhook: SimWebhook = {
      id: partial.id ?? newGuid(),
      trigger_types: partial.trigger_types ?? [...DEFAULT_TRIGGER_TYPES],
      webhook_url: partial.webhook_url,
      status: partial.status ?? "active",
      notification_email_addresses: partial.notification_email_addresses ?? [],
      webhook_secret: partial.webhook_secret ?? newSecretText().replace(/[~.]/g, "x"),
      created_at: partial.created_at ?? now,
      updated_at: partial.updated_at ?? now,
      ...(partial.description !== undefined ? { description: partial.description } : {}),
      ...(partial.compressed_delivery !== undefined
        ? { compressed_delivery: partial.compressed_delivery }
        : {}),
      ...(partial.status_updated_at !== undefined ? { status_updated_at: partial.status_updated_at } : {}),
      ...(partial.signatureStyle !== undefined ? { signatureStyle: partial.signatureStyle } : {}),
    };
    this.webhooks.push(webhook);
    return webhook;
  }
}

function nameFromEmail(email: string): string {
  const local = email.split("@")[0] ?? email;
  return local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(" ");
}

// ---------------------------------------------------------------- tenant

/** Options of `new SimTenant`. */
export interface SimTenantOptions {
  clock: Clock;
  tenantId?: string;
  displayName?: string;
  /** Initial domain, e.g. `contoso.onmicrosoft.com`. */
  domain?: string;
  propagationDelayMs?: number;
}

/** Fields accepted by `addApp`; anything omitted gets a realistic default. */
export type SimAppInput = Partial<Omit<SimApp, "passwordCredentials">> & {
  passwordCredentials?: SimPassword[];
};

/** The simulated Entra tenant and its Nylas application. */
export class SimTenant {
  readonly tenantId: string;
  displayName: string;
  domain: string;
  readonly clock: Clock;
  /** A new secret is refused (AADSTS7000215) until `createdAt + propagationDelayMs` by the clock. */
  propagationDelayMs: number;
  /**
   * What a token request with a secret still propagating gets: "7000215"
   * (invalid secret, default) or "7000222" (expired secret, as reported right
   * after an app was registered with a new secret).
   */
  notPropagatedCode: SecretRefusalCode = "7000215";
  /**
   * Replica disagreement after a new secret is first accepted (see
   * `PropagationFlaps`). Default undefined: once accepted, always accepted.
   */
  propagationFlaps: PropagationFlaps | undefined = undefined;
  /**
   * Applications (object id or appId) whose reads answer 403
   * Authorization_RequestDenied to every caller, `$batch` sub-requests
   * included. Default empty.
   */
  readonly unreadableApps = new Set<string>();
  /** When set, addPassword refuses lifetimes longer than this (CredentialInvalidLifetimeAsPerAppPolicy). */
  lifetimePolicyMaxDays: number | undefined;
  /** The id the policy error names: the tenant default app management policy's. */
  lifetimePolicyId = "00000000-0000-0000-0000-000000000000";
  /** Applications by object id, in creation order (the order Graph lists them). */
  readonly apps = new Map<string, SimApp>();
  /** Service principals by object id. */
  readonly servicePrincipals = new Map<string, SimServicePrincipal>();
  readonly oauth2PermissionGrants: SimOAuth2PermissionGrant[] = [];
  readonly appRoleAssignments: SimAppRoleAssignment[] = [];
  readonly nylas: SimNylas;
  /**
   * How the per-credential sign-in activity report (Graph beta) answers, and
   * how long a sign-in takes to show in it. Default `{ mode: "ok", delayMs: 0 }`.
   */
  signInReport: SignInReportSettings = { mode: "ok", delayMs: 0 };

  readonly #appsByAppId = new Map<string, SimApp>();
  readonly #spsByAppId = new Map<string, SimServicePrincipal>();
  #version = 0;
  #snapshot: { version: number; size: number; list: SimApp[]; index: Map<string, number> } | undefined;
  #spSnapshot: { version: number; size: number; list: SimServicePrincipal[] } | undefined;
  /** Sign-ins by lower-case keyId, oldest first. */
  readonly #signIns = new Map<string, SimSignIn[]>();
  /** Secrets created by `createPassword`: the only ones `propagationFlaps` applies to. */
  readonly #fresh = new WeakSet<SimPassword>();
  /** Token requests answered for a fresh secret since it was first accepted. */
  readonly #flaps = new WeakMap<SimPassword, { flaps: PropagationFlaps | undefined; seen: number }>();
  #keyCredentialsThrottle: KeyCredentialsThrottle | undefined = undefined;
  #keyCredentialsWindow = { minute: -1, count: 0 };

  constructor(options: SimTenantOptions) {
    this.clock = options.clock;
    this.tenantId = options.tenantId ?? newGuid();
    this.displayName = options.displayName ?? "Contoso (simulated)";
    this.domain = options.domain ?? "contoso.onmicrosoft.com";
    this.propagationDelayMs = options.propagationDelayMs ?? 0;
    this.lifetimePolicyMaxDays = undefined;
    this.nylas = new SimNylas(this, options.clock);
    this.#seedFirstParty();
  }

  /** Invalidates indexes and list snapshots after hand edits of `apps` or `servicePrincipals`. */
  touch(): void {
    this.#version++;
    this.#appsByAppId.clear();
    for (const app of this.apps.values()) this.#appsByAppId.set(app.appId, app);
    this.#spsByAppId.clear();
    for (const sp of this.servicePrincipals.values()) this.#spsByAppId.set(sp.appId, sp);
  }

  #now(): Date {
    return this.clock.now();
  }

  // ------------------------------------------------------------ apps

  /**
   * Registers an application (and, unless `servicePrincipal: false`, its
   * service principal, which client-credential sign-in needs). O(1), so a
   * benchmark can add 50,000.
   */
  addApp(input: SimAppInput = {}, options: { servicePrincipal?: boolean } = {}): SimApp {
    const app: SimApp = {
      id: input.id ?? newGuid(),
      appId: input.appId ?? newGuid(),
      displayName: input.displayName ?? "app",
      signInAudience: input.signInAudience ?? "AzureADMyOrg",
      createdDateTime: input.createdDateTime ?? toIso(this.#now()),
      passwordCredentials: input.passwordCredentials ?? [],
      keyCredentials: input.keyCredentials ?? [],
      web: input.web ?? { redirectUris: [] },
      spa: input.spa ?? { redirectUris: [] },
      publicClient: input.publicClient ?? { redirectUris: [] },
      requiredResourceAccess: input.requiredResourceAccess ?? [],
      owners: input.owners ?? [],
    };
    if (this.apps.has(app.id) || this.appByAppId(app.appId)) {
      throw new Error(`an application with id ${app.id} or appId ${app.appId} exists already`);
    }
    this.apps.set(app.id, app);
    this.#appsByAppId.set(app.appId, app);
    this.#version++;
    if (options.servicePrincipal ?? true) {
      this.addServicePrincipal({
        appId: app.appId,
        displayName: app.displayName,
        appOwnerOrganizationId: this.tenantId,
      });
    }
    return app;
  }

  /** Deletes an application (and its service principal). */
  removeApp(idOrAppId: string): boolean {
    const app = this.app(idOrAppId);
    if (!app) return false;
    this.apps.delete(app.id);
    this.#appsByAppId.delete(app.appId);
    const sp = this.spByAppId(app.appId);
    if (sp) {
      this.servicePrincipals.delete(sp.id);
      this.#spsByAppId.delete(sp.appId);
    }
    this.#version++;
    return true;
  }

  appById(id: string): SimApp | undefined {
    return this.apps.get(id);
  }

  appByAppId(appId: string): SimApp | undefined {
    const found = this.#appsByAppId.get(appId);
    if (found && this.apps.get(found.id) === found) return found;
    if (found || this.#appsByAppId.size !== this.apps.size) {
      this.touch(); // the map was edited by hand
      return this.#appsByAppId.get(appId);
    }
    return undefined;
  }

  /** By object id or appId. */
  app(idOrAppId: string): SimApp | undefined {
    return this.appById(idOrAppId) ?? this.appByAppId(idOrAppId);
  }

  /**
   * Apps in creation order plus an id → position index, cached until the set of
   * apps changes: Graph paging reads a page in O(page), not O(tenant).
   */
  appsSnapshot(): { list: readonly SimApp[]; index: ReadonlyMap<string, number> } {
    const s = this.#snapshot;
    if (s && s.version === this.#version && s.size === this.apps.size) return s;
    const list = [...this.apps.values()];
    const index = new Map<string, number>();
    list.forEach((app, i) => index.set(app.id, i));
    this.#snapshot = { version: this.#version, size: this.apps.size, list, index };
    return this.#snapshot;
  }

  // ------------------------------------------------------------ service principals

  addServicePrincipal(input: Partial<SimServicePrincipal> & { appId: string }): SimServicePrincipal {
    const sp: SimServicePrincipal = {
      id: input.id ?? newGuid(),
      appId: input.appId,
      displayName: input.displayName ?? this.appByAppId(input.appId)?.displayName ?? input.appId,
      servicePrincipalType: input.servicePrincipalType ?? "Application",
      appOwnerOrganizationId: input.appOwnerOrganizationId ?? null,
      accountEnabled: input.accountEnabled ?? true,
      oauth2PermissionScopes: input.oauth2PermissionScopes ?? [],
      appRoles: input.appRoles ?? [],
    };
    if (this.servicePrincipals.has(sp.id) || this.spByAppId(sp.appId)) {
      throw new Error(`a service principal with id ${sp.id} or appId ${sp.appId} exists already`);
    }
    this.servicePrincipals.set(sp.id, sp);
    this.#spsByAppId.set(sp.appId, sp);
    this.#version++;
    return sp;
  }

  spById(id: string): SimServicePrincipal | undefined {
    return this.servicePrincipals.get(id);
  }

  spByAppId(appId: string): SimServicePrincipal | undefined {
    const found = this.#spsByAppId.get(appId);
    if (found && this.servicePrincipals.get(found.id) === found) return found;
    if (found || this.#spsByAppId.size !== this.servicePrincipals.size) {
      this.touch();
      return this.#spsByAppId.get(appId);
    }
    return undefined;
  }

  /** Service principals in creation order, cached like `appsSnapshot`. */
  spsSnapshot(): readonly SimServicePrincipal[] {
    const s = this.#spSnapshot;
    if (s && s.version === this.#version && s.size === this.servicePrincipals.size) return s.list;
    this.#spSnapshot = {
      version: this.#version,
      size: this.servicePrincipals.size,
      list: [...this.servicePrincipals.values()],
    };
    return this.#spSnapshot.list;
  }

  /** The Microsoft Graph service principal (always present). */
  get graphServicePrincipal(): SimServicePrincipal {
    const sp = this.spByAppId(GRAPH_APP_ID);
    if (!sp) throw new Error("the Microsoft Graph service principal was removed from the simulated tenant");
    return sp;
  }

  // ------------------------------------------------------------ secrets

  /**
   * Seeds a secret that already exists and has propagated (e.g. the one the
   * Nylas connector holds). `value` defaults to a fresh Entra-shaped secret.
   */
  addSecret(
    idOrAppId: string,
    input: {
      endDateTime: Date | string;
      displayName?: string;
      startDateTime?: Date | string;
      value?: string;
    },
  ): { keyId: string; value: string; password: SimPassword } {
    const app = this.#requireApp(idOrAppId);
    const value = input.value ?? newSecretText();
    const start = input.startDateTime ?? new Date(this.#now().getTime() - DAY_MS);
    const password: SimPassword = {
      keyId: newGuid(),
      displayName: input.displayName ?? null,
      startDateTime: typeof start === "string" ? start : toIso(start),
      endDateTime: typeof input.endDateTime === "string" ? input.endDateTime : toIso(input.endDateTime),
      hint: value.slice(0, 3),
      customKeyIdentifier: null,
      value,
      // Long before now: seeded secrets are past any propagation delay.
      createdAt: new Date(0),
    };
    app.passwordCredentials.push(password);
    return { keyId: password.keyId, value, password };
  }

  /** What Graph addPassword does: a new secret, created now (so it still has to propagate). */
  createPassword(
    app: SimApp,
    input: { displayName?: string | null; startDateTime: Date; endDateTime: Date },
  ): SimPassword {
    const value = newSecretText();
    const password: SimPassword = {
      keyId: newGuid(),
      displayName: input.displayName ?? null,
      startDateTime: toIso(input.startDateTime),
      endDateTime: toIso(input.endDateTime),
      hint: value.slice(0, 3),
      customKeyIdentifier: null,
      value,
      createdAt: this.#now(),
    };
    app.passwordCredentials.push(password);
    this.#fresh.add(password);
    return password;
  }

  /** Deletes a secret by keyId; false when the app has no such secret. */
  removePassword(app: SimApp, keyId: string): boolean {
    const index = app.passwordCredentials.findIndex((p) => p.keyId.toLowerCase() === keyId.toLowerCase());
    if (index < 0) return false;
    app.passwordCredentials.splice(index, 1);
    return true;
  }

  /**
   * How Entra judges `value` as a client secret of `app` right now (by the
   * clock): unknown, not yet propagated, not yet valid, expired, or accepted.
   */
  checkSecret(app: SimApp, value: string): SecretCheck {
    const password = app.passwordCredentials.find((p) => p.value === value);
    if (!password) return { ok: false, reason: "invalid" };
    return this.judgePassword(password);
  }

  /**
   * What one token request presenting `value` gets right now: `checkSecret`,
   * plus `notPropagatedCode` for a secret still propagating and the replica
   * disagreement of `propagationFlaps`, whose count this request advances.
   * The token endpoint and Nylas' hosted-auth code exchange call this;
   * `checkSecret` and `judgePassword` only look.
   */
  presentSecret(app: SimApp, value: string): SecretCheck {
    const check = this.checkSecret(app, value);
    if (!check.ok) {
      if (check.reason === "not_propagated" && this.notPropagatedCode !== "7000215") {
        return { ...check, code: this.notPropagatedCode };
      }
      return check;
    }
    const password = check.password;
    if (!this.#fresh.has(password)) return check;
    let state = this.#flaps.get(password);
    if (state === undefined) {
      // The first acceptance fixes how this secret settles: a knob set later does not make it flap.
      const flaps = this.propagationFlaps;
      state = { flaps: flaps === undefined ? undefined : { ...flaps }, seen: 0 };
      this.#flaps.set(password, state);
    }
    if (state.flaps === undefined) return check;
    const n = state.seen++;
    const accepts = Math.max(1, Math.floor(state.flaps.acceptsBeforeRefusals ?? 1));
    const refusals = Math.max(0, Math.floor(state.flaps.refusalsAfterFirstAccept));
    if (n >= accepts && n < accepts + refusals) {
      return { ok: false, reason: "replica_lag", password, code: state.flaps.code ?? "7000215" };
    }
    return check;
  }

  /**
   * Graph throttles reads whose `$select` includes keyCredentials (GET of one
   * application, each page of the applications list, each `$batch`
   * sub-request) to `perMinute` per clock minute; beyond it they get 429 with
   * Retry-After. Setting it (even to the same value) starts the count afresh.
   * Default undefined: no throttle.
   */
  get keyCredentialsThrottle(): KeyCredentialsThrottle | undefined {
    return this.#keyCredentialsThrottle;
  }

  set keyCredentialsThrottle(throttle: KeyCredentialsThrottle | undefined) {
    this.#keyCredentialsThrottle = throttle;
    this.#keyCredentialsWindow = { minute: -1, count: 0 };
  }

  /**
   * Takes one read from the keyCredentials throttle (Graph, per clock minute).
   * `retryAfterSeconds` when the minute's budget is spent: the seconds until
   * the next minute starts, at least 1.
   */
  takeKeyCredentialsRead(): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const throttle = this.keyCredentialsThrottle;
    if (throttle === undefined) return { ok: true };
    const now = this.#now().getTime();
    const minute = Math.floor(now / 60_000);
    if (this.#keyCredentialsWindow.minute !== minute) this.#keyCredentialsWindow = { minute, count: 0 };
    if (this.#keyCredentialsWindow.count >= throttle.perMinute) {
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000)) };
    }
    this.#keyCredentialsWindow.count++;
    return { ok: true };
  }

  /** Whether reads of this app answer 403 (`unreadableApps` holds its object id or appId). */
  isUnreadable(app: SimApp): boolean {
    if (this.unreadableApps.size === 0) return false;
    for (const key of this.unreadableApps) {
      const k = key.toLowerCase();
      if (k === app.id.toLowerCase() || k === app.appId.toLowerCase()) return true;
    }
    return false;
  }

  /** How Entra judges a secret it holds right now: not yet propagated, not yet valid, expired, or accepted. */
  judgePassword(password: SimPassword): SecretCheck {
    const now = this.#now().getTime();
    if (now < password.createdAt.getTime() + this.propagationDelayMs) {
      return { ok: false, reason: "not_propagated", password };
    }
    if (now >= Date.parse(password.endDateTime)) return { ok: false, reason: "expired", password };
    if (now < Date.parse(password.startDateTime)) return { ok: false, reason: "not_yet_valid", password };
    return { ok: true, password };
  }

  /** The connector's app and the password its stored secret value matches, if any. */
  connectorSecret(): { app: SimApp | undefined; password: SimPassword | undefined } | undefined {
    const connector = this.nylas.connector;
    if (!connector) return undefined;
    const clientId = connector.settings.client_id;
    const app = clientId === undefined ? undefined : this.appByAppId(clientId);
    const value = connector.settings.client_secret;
    const password =
      app && value !== undefined ? app.passwordCredentials.find((p) => p.value === value) : undefined;
    return { app, password };
  }

  // ------------------------------------------------------------ sign-in activity

  /**
   * Records that a client secret of an app authenticated (a token was issued
   * with it) at `at` (default: now by the clock). Entra's token endpoint,
   * Nylas' hosted-auth code exchange and Nylas' grant refreshes call this;
   * tests may too. Throws when the app or the key does not exist.
   */
  recordSignIn(
    appIdOrObjectId: string,
    keyId: string,
    at: Date | string = this.#now(),
    requestId: string = newGuid(),
  ): SimSignIn {
    const app = this.#requireApp(appIdOrObjectId);
    const password = app.passwordCredentials.find((p) => p.keyId.toLowerCase() === keyId.toLowerCase());
    if (!password) throw new Error(`application ${app.appId} has no password credential ${keyId}`);
    const signIn: SimSignIn = {
      appId: app.appId,
      keyId: password.keyId,
      at: new Date(typeof at === "string" ? Date.parse(at) : at.getTime()),
      requestId,
      resourceId: this.spByAppId(GRAPH_APP_ID)?.id ?? null,
    };
    const key = password.keyId.toLowerCase();
    let list = this.#signIns.get(key);
    if (list === undefined) {
      list = [];
      this.#signIns.set(key, list);
    }
    // Usually an append; a test may record one in the past.
    let i = list.length;
    while (i > 0 && (list[i - 1] as SimSignIn).at.getTime() > signIn.at.getTime()) i--;
    list.splice(i, 0, signIn);
    if (list.length > SIGN_IN_PRUNE_AT) this.#pruneSignIns(list);
    return signIn;
  }

  /** The latest sign-in with this key, whether or not the report shows it yet. */
  lastSignIn(keyId: string): SimSignIn | undefined {
    return this.#signIns.get(keyId.toLowerCase())?.at(-1);
  }

  /**
   * The latest sign-in with this key that the report shows at `asOf` (default
   * now by the clock): one that happened at least `signInReport.delayMs` before.
   */
  visibleSignIn(keyId: string, asOf: Date = this.#now()): SimSignIn | undefined {
    const list = this.#signIns.get(keyId.toLowerCase());
    if (list === undefined) return undefined;
    const limit = asOf.getTime() - this.signInReport.delayMs;
    for (let i = list.length - 1; i >= 0; i--) {
      const signIn = list[i] as SimSignIn;
      if (signIn.at.getTime() <= limit) return signIn;
    }
    return undefined;
  }

  /** Recorded sign-ins with this key, oldest first (old ones the report can no longer show are dropped). */
  signInsOf(keyId: string): readonly SimSignIn[] {
    return this.#signIns.get(keyId.toLowerCase()) ?? [];
  }

  /** Drops sign-ins older than the newest one the report shows now; they can never be the answer again. */
  #pruneSignIns(list: SimSignIn[]): void {
    const limit = this.#now().getTime() - this.signInReport.delayMs;
    let newestVisible = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      if ((list[i] as SimSignIn).at.getTime() <= limit) {
        newestVisible = i;
        break;
      }
    }
    if (newestVisible > 0) list.splice(0, newestVisible);
    if (list.length > SIGN_IN_MAX) list.splice(0, list.length - SIGN_IN_MAX);
  }

  // ------------------------------------------------------------ permissions

  /** Makes a service principal (or user) an owner of an app. */
  addOwner(idOrAppId: string, ownerObjectId: string): void {
    const app = this.#requireApp(idOrAppId);
    if (!app.owners.includes(ownerObjectId)) app.owners.push(ownerObjectId);
  }

  removeOwner(idOrAppId: string, ownerObjectId: string): void {
    const app = this.#requireApp(idOrAppId);
    app.owners = app.owners.filter((o) => o !== ownerObjectId);
  }

  /** Assigns an application permission (app role of `resourceAppId`, default Graph) to a service principal. */
  grantAppRole(principalSpId: string, roleValue: string, resourceAppId = GRAPH_APP_ID): SimAppRoleAssignment {
    const resource = this.spByAppId(resourceAppId);
    const role = resource?.appRoles.find((r) => r.value === roleValue);
    if (!resource || !role) throw new Error(`no app role ${roleValue} on ${resourceAppId}`);
    const existing = this.appRoleAssignments.find(
      (a) => a.principalId === principalSpId && a.resourceId === resource.id && a.appRoleId === role.id,
    );
    if (existing) return existing;
    const assignment: SimAppRoleAssignment = {
      id: newGuid(),
      principalId: principalSpId,
      resourceId: resource.id,
      appRoleId: role.id,
      createdDateTime: toIso(this.#now()),
    };
    this.appRoleAssignments.push(assignment);
    return assignment;
  }

  revokeAppRole(principalSpId: string, roleValue: string, resourceAppId = GRAPH_APP_ID): void {
    const resource = this.spByAppId(resourceAppId);
    const role = resource?.appRoles.find((r) => r.value === roleValue);
    if (!resource || !role) return;
    const index = this.appRoleAssignments.findIndex(
      (a) => a.principalId === principalSpId && a.resourceId === resource.id && a.appRoleId === role.id,
    );
    if (index >= 0) this.appRoleAssignments.splice(index, 1);
  }

  /** Role values (e.g. `Application.ReadWrite.OwnedBy`) a service principal holds on a resource. */
  rolesOf(principalSpId: string, resourceAppId = GRAPH_APP_ID): string[] {
    const resource = this.spByAppId(resourceAppId);
    if (!resource) return [];
    const byId = new Map(resource.appRoles.map((r) => [r.id, r.value]));
    return this.appRoleAssignments
      .filter((a) => a.principalId === principalSpId && a.resourceId === resource.id)
      .map((a) => byId.get(a.appRoleId))
      .filter((v): v is string => v !== undefined);
  }

  /**
   * Records consent to delegated scopes of `resourceAppId` for a client's
   * service principal (admin consent for all users by default), merging with
   * an existing grant like the portal's "Grant admin consent" does.
   */
  grantDelegated(
    clientSpId: string,
    resourceAppId: string,
    scopes: readonly string[],
    consent: { consentType?: "AllPrincipals" | "Principal"; principalId?: string } = {},
  ): SimOAuth2PermissionGrant {
    const resource = this.spByAppId(resourceAppId);
    if (!resource) throw new Error(`no service principal for resource ${resourceAppId}`);
    const consentType = consent.consentType ?? "AllPrincipals";
    const principalId = consentType === "AllPrincipals" ? null : (consent.principalId ?? null);
    const existing = this.oauth2PermissionGrants.find(
      (g) =>
        g.clientId === clientSpId &&
        g.resourceId === resource.id &&
        g.consentType === consentType &&
        g.principalId === principalId,
    );
    if (existing) {
      const merged = new Set([...existing.scope.split(" ").filter(Boolean), ...scopes]);
      existing.scope = [...merged].join(" ");
      return existing;
    }
    const grant: SimOAuth2PermissionGrant = {
      id: newGuid(),
      clientId: clientSpId,
      consentType,
      principalId,
      resourceId: resource.id,
      scope: scopes.join(" "),
    };
    this.oauth2PermissionGrants.push(grant);
    return grant;
  }

  /**
   * Creates an app-only identity (app, service principal, a propagated secret
   * valid for ten years) holding the given Graph application permissions.
   */
  addIdentity(
    displayName: string,
    roles: readonly string[] = [],
  ): { app: SimApp; servicePrincipal: SimServicePrincipal; secret: string } {
    const app = this.addApp({ displayName, signInAudience: "AzureADMyOrg" });
    const servicePrincipal = this.spByAppId(app.appId);
    if (!servicePrincipal) throw new Error("addApp did not create the service principal");
    const end = new Date(this.#now().getTime() + 3652 * DAY_MS);
    const { value } = this.addSecret(app.id, { endDateTime: end, displayName: "local admin secret" });
    for (const role of roles) this.grantAppRole(servicePrincipal.id, role);
    return { app, servicePrincipal, secret: value };
  }

  #requireApp(idOrAppId: string): SimApp {
    const app = this.app(idOrAppId);
    if (!app) throw new Error(`no application with id or appId ${idOrAppId}`);
    return app;
  }

  #seedFirstParty(): void {
    this.addServicePrincipal({
      appId: GRAPH_APP_ID,
      displayName: "Microsoft Graph",
      appOwnerOrganizationId: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
      oauth2PermissionScopes: Object.entries(GRAPH_SCOPES).map(([value, id]) => ({
        id,
        value,
        type: value.endsWith(".All") ? "Admin" : "User",
      })),
      appRoles: Object.entries(GRAPH_APP_ROLES).map(([value, id]) => ({ id, value })),
    });
    this.addServicePrincipal({
      appId: EXCHANGE_APP_ID,
      displayName: "Office 365 Exchange Online",
      appOwnerOrganizationId: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
      oauth2PermissionScopes: Object.entries(EXCHANGE_SCOPES).map(([value, id]) => ({
        id,
        value,
        type: "User",
      })),
      appRoles: [],
    });
  }
}
