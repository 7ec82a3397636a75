/**
 * What Nylas does behind its API: the hosted-auth sign-in (Nylas exchanging
 * the Microsoft code with the connector's client secret), grants going
 * invalid when the Azure secret they were authenticated with expires or is
 * deleted (seed 001), and signed CloudEvents webhook notifications.
 * Tests and the sandbox drive it through `sim.nylas`.
 */
import { createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { Logger } from "../logger.js";
import {
  appNotFoundText,
  entraErrorBody,
  expiredSecretText,
  invalidSecretText,
  isTenantSegment,
  refusalCode,
  tenantNotFoundText,
  type EntraErrorBody,
} from "./entra.js";
import { newGuid, newToken } from "./ids.js";
import type {
  SignatureStyle,
  SimApp,
  SimConnector,
  SimGrant,
  SimPassword,
  SimSignIn,
  SimTenant,
  SimWebhook,
} from "./tenant.js";

/** Grant notification types the simulator emits. */
export type GrantNotificationType = "grant.created" | "grant.updated" | "grant.deleted" | "grant.expired";

/** The trigger types `POST /v3/webhooks/send-test-event` accepts (Nylas OpenAPI `send_test_event_input`). */
export const TEST_EVENT_TRIGGER_TYPES = [
  "calendar.created",
  "calendar.updated",
  "calendar.deleted",
  "event.created",
  "event.updated",
  "event.deleted",
  "grant.created",
  "grant.updated",
  "grant.deleted",
  "grant.expired",
  "message.send_success",
  "message.send_failed",
  "message.bounce_detected",
  "message.created",
  "message.created.truncated",
  "message.created.cleaned",
  "message.updated",
  "message.updated.truncated",
  "contact.updated",
  "contact.deleted",
  "folder.created",
  "folder.updated",
  "folder.deleted",
  "message.opened",
  "message.link_clicked",
  "thread.replied",
] as const;

/** A trigger type a test event can be sent for. */
export type TestEventTriggerType = (typeof TEST_EVENT_TRIGGER_TYPES)[number];

/** The secret Nylas signs `send-test-event` notifications with (Nylas OpenAPI, `send_test_event`). */
export const TEST_EVENT_SECRET = "mock-webhook-secret";

/** Statuses Nylas re-delivers on (nylas/skills, webhooks-notifications "Retry Behavior"); any other non-2xx is dropped. */
export const NYLAS_RETRY_STATUSES: readonly number[] = [408, 429, 502, 503, 504, 507];

/**
 * How the simulator re-delivers a notification whose attempt failed with a
 * retryable status (`retryOn`) or got no answer (connection error, timeout).
 * Attempt n+1 waits `baseDelayMs * factor^(n-1)` of real wall-clock time,
 * capped at `maxDelayMs`.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 = no retries. */
  attempts: number;
  /** Wall-clock wait before the second attempt. */
  baseDelayMs: number;
  /** Growth of the wait per further attempt. Default 2. */
  factor?: number;
  /** Cap on one wait. Default none. */
  maxDelayMs?: number;
  /** Statuses that are retried. Default `NYLAS_RETRY_STATUSES`. */
  retryOn?: readonly number[];
  /**
   * Send each retry to every destination subscribed to the trigger (as Nylas's
   * docs say it does), not only to the ones that failed. Default false.
   */
  fanOut?: boolean;
}

/**
 * Nylas-like numbers: 3 attempts, exponential back-off, the last one 15 min
 * after the first (docs: 10–20 min). Real minutes: for scripts, not tests.
 */
export const NYLAS_RETRY_POLICY: RetryPolicy = { attempts: 3, baseDelayMs: 5 * 60_000, factor: 2 };

/**
 * When a destination drifts: `failing` after `failingAfter` failed attempts in
 * a row (still delivered to), `failed` after `failedAfter` (no longer
 * delivered to, never reactivated by the simulator; PUT `status: active` does).
 * A delivered attempt resets the count and turns `failing` back to `active`.
 */
export interface DestinationHealthPolicy {
  failingAfter: number;
  failedAfter: number;
}

/** Options that shape a grant notification's payload. */
export interface NotificationOptions {
  /** `grant.updated` for a re-authentication (code 25027, `reauthentication_flag: true`). */
  reauthentication?: boolean;
  /** Send `email`, `provider` and `grant_updated_at` as JSON null where the payload has them. */
  nulls?: boolean;
}

/** Options of `buildNotification`. */
export interface BuildNotificationOptions extends NotificationOptions {
  /** Default: the secret of the first webhook destination. */
  webhookSecret?: string;
  id?: string;
  attempt?: number;
  /** Gzip the body (`Content-Encoding: gzip`) and sign the gzip bytes. Default false. */
  compressed?: boolean;
  /** Default "plain". */
  signatureStyle?: SignatureStyle;
}

/** A CloudEvents notification as Nylas sends it. */
export interface NylasNotification {
  specversion: "1.0";
  type: GrantNotificationType;
  source: "/nylas/system";
  id: string;
  time: number;
  webhook_delivery_attempt: number;
  data: { application_id: string; object: Record<string, unknown> };
}

/** A notification ready to POST: the exact body bytes and the headers that go with them. */
export interface BuiltNotification {
  notification: NylasNotification;
  /** The JSON text of the notification (uncompressed, even when `compressed`). */
  body: string;
  /** The bytes to POST: the gzip of `body` when `compressed`, else `body` as UTF-8. Signed. */
  bodyBytes: Buffer;
  compressed: boolean;
  headers: Record<string, string>;
}

/** One delivery attempt to one webhook destination. */
export interface NotificationDelivery {
  notificationId: string;
  type: GrantNotificationType | TestEventTriggerType;
  webhookId: string;
  url: string;
  /** `webhook_delivery_attempt` of this attempt, from 1. */
  attempt: number;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  ok: boolean;
  error?: string;
  /** Another attempt is scheduled for this destination (see `NylasControl.retryPolicy`). */
  willRetry: boolean;
  /** The body went gzip-compressed. */
  compressed: boolean;
  /** A `send-test-event` delivery (never retried, never counted towards the destination's health). */
  test?: boolean;
  at: Date;
  /** The JSON text sent (before compression). */
  body: string;
}

/** The outcome of one hosted-auth attempt, as the Nylas dashboard's auth log shows it. */
export interface AuthLogEntry {
  at: Date;
  email: string;
  outcome: "created" | "reauthenticated" | "failed";
  grantId?: string;
  /** What the user's browser was sent back with, when it failed. */
  error?: { error: string; error_code?: string; error_description: string };
  /** The provider's answer behind a failure (e.g. AADSTS7000215), which only the auth log shows. */
  providerError?: EntraErrorBody;
}

/** Hosted-auth request parameters (the `/v3/connect/auth` query). */
export interface AuthorizeParams {
  client_id?: string;
  redirect_uri?: string;
  response_type?: string;
  provider?: string;
  login_hint?: string;
  state?: string;
  scope?: string;
  /** Display name of the user signing in (simulation input, not a Nylas parameter). */
  name?: string;
}

/** How the hosted-auth flow ends for the browser. */
export type AuthorizeResult =
  /** Nylas refuses the request itself (bad client_id / redirect_uri): an error page, no redirect. */
  | { kind: "nylas_error"; status: number; type: string; message: string }
  /** Microsoft shows an error page (unknown app, redirect URI mismatch): the user is stuck there. */
  | { kind: "provider_page"; status: number; text: string; providerError: EntraErrorBody }
  /**
   * Back to the application's redirect_uri, with `code` or with `error`.
   * `pendingExchange`: the grant changes only when `code` is redeemed.
   */
  | { kind: "redirect"; location: string; grant?: SimGrant; code?: string; pendingExchange?: true };

/** One Azure secret Nylas refreshed grants' tokens with during a `tick()` / `refreshGrants()`. */
export interface GrantRefresh {
  appId: string;
  keyId: string;
  /** How many valid grants refreshed with this key. */
  grants: number;
  /** The one sign-in recorded for them (Nylas' refreshes are counted per key, not per grant). */
  signIn: SimSignIn;
}

/** Thrown by `signIn` when the flow does not end with a grant. */
export class SignInError extends Error {
  override name = "SignInError";
  constructor(
    message: string,
    readonly result: AuthorizeResult,
  ) {
    super(message);
  }
}

/** What the Nylas behaviour needs. */
export interface NylasControlDeps {
  tenant: SimTenant;
  logger: Logger;
  /** Base URL of the server of the application's region (for the Azure redirect URI check). */
  regionUrl: () => string;
  fetch?: typeof fetch;
}

/** A finished Microsoft sign-in, not yet applied to a grant. */
interface PendingSignIn {
  email: string;
  name?: string;
  scopes: string[];
  keyId: string;
  clientId: string;
  credentialId: string | undefined;
  state?: string;
}

interface IssuedCode {
  /** The grant the sign-in created or re-authenticated. */
  grantId?: string;
  /** The sign-in the exchange completes (code exchange required). */
  pending?: PendingSignIn;
  redirectUri: string;
  expiresAtMs: number;
}

const INVALID_SECRET_DESCRIPTION = "Provider refused to return refresh_token using code";
const EXPIRED_SECRET_DESCRIPTION =
  "The client secret for your Azure application has expired. Please renew the client secret in the Azure Directory and try again";
const DELIVERY_TIMEOUT_MS = 10_000;
/** Nylas' checks of a hosted-auth request, in order: each says what is wrong, or nothing. */
const AUTHORIZE_CHECKS: ((p: AuthorizeParams, nylas: SimTenant["nylas"]) => string | undefined)[] = [
  (p) => (p.client_id ? undefined : "client_id is required"),
  (p, nylas) =>
    p.client_id === nylas.applicationId
      ? undefined
      : `client_id '${p.client_id}' does not match any application`,
  (p) => (p.redirect_uri ? undefined : "redirect_uri is required"),
  (p, nylas) =>
    nylas.callbackUris.includes(p.redirect_uri ?? "")
      ? undefined
      : `redirect_uri '${p.redirect_uri}' is not an allowed callback URI for this application`,
  (p) =>
    p.response_type === "code" ? undefined : "response_type must be 'code' (adminconsent is not simulated)",
  (p) =>
    p.provider === undefined || p.provider === "microsoft"
      ? undefined
      : `provider '${p.provider}' has no connector in this application`,
  (p) =>
    p.state !== undefined && p.state.length > 256 ? "state must be 256 characters or fewer" : undefined,
  (p) => (p.login_hint ? undefined : "the simulator needs login_hint: the email address that signs in"),
];
/** What the docs' mock payloads carry (developer.nylas.com/docs/v3/notifications/notification-schemas). */
const MOCK_TIME = 1_234_567_890;

/** The simulator's Nylas-side behaviour (`sim.nylas`). */
export class NylasControl {
  /** Every notification delivery attempt, in order. */
  readonly deliveries: NotificationDelivery[] = [];
  /** Every hosted-auth attempt, in order. */
  readonly authLog: AuthLogEntry[] = [];
  /**
   * Re-delivery of failed notifications, taken when a notification is sent.
   * Default `{ attempts: 1, baseDelayMs: 0 }`: no retries. `NYLAS_RETRY_POLICY`
   * has Nylas-like numbers; tests use small delays, e.g. `{ attempts: 3, baseDelayMs: 10 }`.
   */
  retryPolicy: RetryPolicy = { attempts: 1, baseDelayMs: 0 };
  /** Destinations drifting to `failing` / `failed`. Default undefined: statuses never change by themselves. */
  destinationHealth: DestinationHealthPolicy | undefined = undefined;
  /** How long an endpoint has to answer before the attempt counts as failed (no response). Default 10 s. */
  deliveryTimeoutMs = DELIVERY_TIMEOUT_MS;
  /**
   * What signs `send-test-event` notifications: "mock" (default) the documented
   * `mock-webhook-secret`; "destination" the secret of the registered
   * destination with that URL, when there is one.
   */
  testEventSecret: "mock" | "destination" = "mock";

  readonly #deps: NylasControlDeps;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #codes = new Map<string, IssuedCode>();
  readonly #failures = new Map<string, number>();
  readonly #sleepers = new Set<{ timer: NodeJS.Timeout; resolve: (fired: boolean) => void }>();
  #draining = false;

  constructor(deps: NylasControlDeps) {
    this.#deps = deps;
  }

  get #tenant(): SimTenant {
    return this.#deps.tenant;
  }

  #nowSeconds(): number {
    return Math.floor(this.#tenant.clock.now().getTime() / 1000);
  }

  // ------------------------------------------------------------ hosted auth

  /**
   * Runs the hosted-auth flow as if the user completed the Microsoft sign-in:
   * validates the request, then has "Microsoft" judge the connector's secret,
   * then creates or re-authenticates the grant for `login_hint`. Webhook
   * notifications are sent in the background (await `settle()`). When the code
   * exchange is required (`tenant.nylas.requireCodeExchange`, or
   * `options.exchange`), the grant is left alone until `code` is redeemed.
   */
  authorize(params: AuthorizeParams, options: { exchange?: boolean } = {}): AuthorizeResult {
    const nylas = this.#tenant.nylas;
    const nylasError = (status: number, type: string, message: string): AuthorizeResult => ({
      kind: "nylas_error",
      status,
      type,
      message,
    });
    for (const check of AUTHORIZE_CHECKS) {
      const problem = check(params, nylas);
      if (problem !== undefined) return nylasError(400, "invalid_request_error", problem);
    }
    const connector = nylas.connector;
    if (!connector) return nylasError(404, "not_found_error", "connector not found for provider 'microsoft'");

    // The checks above make both present.
    const [email, redirectUri] = [params.login_hint ?? "", params.redirect_uri ?? ""];
    const redirect = (extra: Record<string, string>): string => {
      const url = new URL(redirectUri);
      for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
      if (params.state !== undefined) url.searchParams.set("state", params.state);
      return url.toString();
    };
    const fail = (description: string, providerError?: EntraErrorBody): AuthorizeResult => {
      const error = {
        error: "provider_code_request_failed",
        error_code: "45001",
        error_description: description,
      };
      this.authLog.push({
        at: this.#tenant.clock.now(),
        email,
        outcome: "failed",
        error,
        ...(providerError ? { providerError } : {}),
      });
      return { kind: "redirect", location: redirect(error) };
    };

    const app = this.#signInApp(connector);
    if (Array.isArray(app)) return this.#providerPage(email, ...app);

    // Nylas redeems the code at Microsoft's token endpoint with the connector's secret.
    const secret = connector.settings.client_secret;
    const check = secret === undefined ? undefined : this.#tenant.presentSecret(app, secret);
    if (check === undefined || !check.ok) {
      const [code, text, description]: [number, string, string] =
        check !== undefined && refusalCode(check) === 7000222
          ? [7000222, expiredSecretText(app.appId), EXPIRED_SECRET_DESCRIPTION]
          : [7000215, invalidSecretText(app.appId), INVALID_SECRET_DESCRIPTION];
      return fail(description, entraErrorBody("invalid_client", code, text, this.#tenant.clock.now()));
    }
    // Microsoft issued tokens for that code with this secret: a sign-in with the key.
    this.#tenant.recordSignIn(app.id, check.password.keyId);
    const scopes = params.scope ? params.scope.split(/\s+/).filter(Boolean) : [...connector.scope];
    if (!scopes.some((s) => s === "offline_access" || s.endsWith("/offline_access"))) {
      // Without offline_access Microsoft issues no refresh token, and Nylas cannot keep a grant.
      return fail(INVALID_SECRET_DESCRIPTION);
    }

    const signIn: PendingSignIn = {
      email,
      scopes,
      keyId: check.password.keyId,
      clientId: app.appId,
      credentialId: connector.active_credential_id,
      ...(params.name !== undefined ? { name: params.name } : {}),
      ...(params.state !== undefined ? { state: params.state } : {}),
    };
    const code = newToken(40);
    const issued: IssuedCode = {
      redirectUri,
      expiresAtMs: Date.now() + 10 * 60_000,
    };
    if (options.exchange ?? nylas.requireCodeExchange) {
      // Nylas holds the sign-in until the application's callback redeems the code.
      this.#codes.set(code, { ...issued, pending: signIn });
      this.#deps.logger.debug(`sim nylas: sign-in of ${email} waits for the code exchange`);
      return { kind: "redirect", location: redirect({ code }), code, pendingExchange: true };
    }
    const grant = this.#completeSignIn(signIn);
    this.#codes.set(code, { ...issued, grantId: grant.id });
    return { kind: "redirect", location: redirect({ code }), grant, code };
  }

  /**
   * `authorize` stopped before the code exchange whatever
   * `tenant.nylas.requireCodeExchange` says: the grant changes only when the
   * returned `code` is redeemed (`redeemCode`, or `POST /v3/connect/token`).
   */
  authorizeOnly(params: AuthorizeParams): AuthorizeResult {
    return this.authorize(params, { exchange: true });
  }

  /** Microsoft's authorize page: the app, or the AADSTS code and text of the page it stops on. */
  #signInApp(connector: SimConnector): SimApp | [code: number, text: string] {
    // The app, the tenant and the redirect URI must be right.
    const tenantSetting = connector.settings.tenant ?? "common";
    const multiTenant = ["common", "organizations", "consumers"].includes(tenantSetting.toLowerCase());
    if (!multiTenant && !isTenantSegment(this.#tenant, tenantSetting))
      return [90002, tenantNotFoundText(tenantSetting)];
    const clientId = connector.settings.client_id;
    if (!clientId) return [900144, "The request body must contain the following parameter: 'client_id'."];
    const app = this.#tenant.appByAppId(clientId);
    if (!app) return [700016, appNotFoundText(clientId, this.#tenant.displayName)];
    if (multiTenant && app.signInAudience === "AzureADMyOrg") {
      return [
        50194,
        `Application '${app.appId}'(${app.displayName}) is not configured as a multi-tenant application. Usage of ` +
          "the /common endpoint is not supported for such applications created after '10/15/2018'. Use a " +
          "tenant-specific endpoint or configure the application to be multi-tenant.",
      ];
    }
    const callback = `${this.#deps.regionUrl()}/v3/connect/callback`;
    if (!app.web.redirectUris.includes(callback)) {
      return [
        50011,
        `The redirect URI '${callback}' specified in the request does not match the redirect URIs configured for ` +
          `the application '${app.appId}'. Make sure the redirect URI sent in the request matches one added to ` +
          "your application in the Azure portal.",
      ];
    }
    return app;
  }

  /** The error page Microsoft stops the user on, logged as a failed sign-in. */
  #providerPage(email: string, code: number, text: string): AuthorizeResult {
    const providerError = entraErrorBody("invalid_request", code, text, this.#tenant.clock.now());
    this.authLog.push({
      at: this.#tenant.clock.now(),
      email,
      outcome: "failed",
      error: { error: "provider_page", error_description: providerError.error_description },
      providerError,
    });
    return {
      kind: "provider_page",
      status: 400,
      text: `Sign in\n\n${providerError.error_description}\n`,
      providerError,
    };
  }

  /** Creates or re-authenticates the grant of a finished sign-in, and notifies. */
  #completeSignIn(signIn: PendingSignIn): SimGrant {
    const nylas = this.#tenant.nylas;
    const now = this.#nowSeconds();
    const { email, scopes, credentialId } = signIn;
    let grant = nylas.grantByEmail(email);
    const reauth = grant !== undefined;
    if (grant) {
      grant.grant_status = "valid";
      grant.updated_at = now;
      grant.scope = scopes;
      grant.secretKeyId = signIn.keyId;
      grant.clientId = signIn.clientId;
      if (credentialId !== undefined) grant.credential_id = credentialId;
      else delete grant.credential_id;
      if (signIn.state !== undefined) grant.state = signIn.state;
      nylas.markChanged();
    } else {
      grant = nylas.addGrant({
        email,
        ...(signIn.name !== undefined ? { name: signIn.name } : {}),
        scope: scopes,
        created_at: now,
        updated_at: now,
        secretKeyId: signIn.keyId,
        clientId: signIn.clientId,
        ...(credentialId !== undefined ? { credential_id: credentialId } : {}),
        ...(signIn.state !== undefined ? { state: signIn.state } : {}),
      });
    }
    this.authLog.push({
      at: this.#tenant.clock.now(),
      email,
      outcome: reauth ? "reauthenticated" : "created",
      grantId: grant.id,
    });
    if (reauth) this.notifyInBackground("grant.updated", grant, { reauthentication: true });
    else this.notifyInBackground("grant.created", grant);
    return grant;
  }

  /**
   * The hosted-auth flow for `email`, with the application's first callback
   * URI; resolves with the grant once its notifications were delivered. When
   * the code exchange is required, this redeems the code as the application's
   * callback would.
   */
  async signIn(
    email: string,
    options: { name?: string; scope?: string[]; state?: string } = {},
  ): Promise<SimGrant> {
    const nylas = this.#tenant.nylas;
    const redirectUri = nylas.callbackUris[0] ?? "";
    const result = this.authorize({
      client_id: nylas.applicationId,
      redirect_uri: redirectUri,
      response_type: "code",
      provider: "microsoft",
      login_hint: email,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.scope ? { scope: options.scope.join(" ") } : {}),
      ...(options.state !== undefined ? { state: options.state } : {}),
    });
    const exchanged =
      result.kind === "redirect" && result.pendingExchange === true && result.code !== undefined
        ? this.redeemCode(result.code, redirectUri)
        : undefined;
    await this.settle();
    if (exchanged) return exchanged;
    if (result.kind === "redirect" && result.grant) return result.grant;
    const why =
      result.kind === "redirect"
        ? (new URL(result.location).searchParams.get("error_description") ??
          (result.pendingExchange ? "the code exchange failed" : "sign-in failed"))
        : result.kind === "provider_page"
          ? result.providerError.error_description
          : result.message;
    throw new SignInError(`sign-in of ${email} failed: ${why}`, result);
  }

  /**
   * Redeems a hosted-auth code once (POST /v3/connect/token). A sign-in held
   * for the exchange (`requireCodeExchange`, `authorizeOnly`) completes now:
   * the grant is created or re-authenticated and notifications are sent.
   */
  redeemCode(code: string, redirectUri: string | undefined): SimGrant | undefined {
    const issued = this.#codes.get(code);
    this.#codes.delete(code);
    if (!issued || issued.expiresAtMs < Date.now()) return undefined;
    if (redirectUri !== undefined && redirectUri !== issued.redirectUri) return undefined;
    if (issued.pending !== undefined) return this.#completeSignIn(issued.pending);
    return issued.grantId === undefined ? undefined : this.#tenant.nylas.grantById(issued.grantId);
  }

  /** Codes issued for sign-ins that wait for their exchange (not redeemed, not expired). */
  pendingExchanges(): { code: string; email: string }[] {
    const now = Date.now();
    const out: { code: string; email: string }[] = [];
    for (const [code, issued] of this.#codes) {
      if (issued.pending !== undefined && issued.expiresAtMs >= now)
        out.push({ code, email: issued.pending.email });
    }
    return out;
  }

  // ------------------------------------------------------------ grant lifecycle

  /** Marks a grant invalid (as Nylas does when its refresh fails) and sends `grant.expired`. */
  async expireGrant(grantId: string): Promise<NotificationDelivery[]> {
    const grant = this.#requireGrant(grantId);
    grant.grant_status = "invalid";
    this.#tenant.nylas.markChanged();
    return this.notify("grant.expired", grant);
  }

  /** Deletes a grant and sends `grant.deleted`. */
  async deleteGrant(grantId: string): Promise<NotificationDelivery[]> {
    const grant = this.#requireGrant(grantId);
    this.#tenant.nylas.removeGrant(grant.id);
    return this.notify("grant.deleted", grant);
  }

  /** A grant deleted through the API: removed now, `grant.deleted` sent in the background. */
  deleteGrantInBackground(grantId: string): void {
    const grant = this.#requireGrant(grantId);
    this.#tenant.nylas.removeGrant(grant.id);
    this.notifyInBackground("grant.deleted", grant);
  }

  /**
   * One Nylas health-check and refresh cycle (think: an hour of Nylas):
   * every valid Microsoft grant whose Azure secret (the one it refreshes with)
   * is expired by the clock, or deleted from the app, goes invalid and
   * `grant.expired` is sent for it; every other valid Microsoft grant whose
   * secret Entra accepts (propagated, started) refreshes its tokens, which
   * records a sign-in with that key now (one per key, see `refreshGrants`).
   */
  async tick(): Promise<{
    expired: SimGrant[];
    deliveries: NotificationDelivery[];
    refreshed: GrantRefresh[];
  }> {
    const { expired, refreshed } = this.#sweep(true);
    if (expired.length > 0) this.#tenant.nylas.markChanged();
    const deliveries: NotificationDelivery[] = [];
    for (const grant of expired) deliveries.push(...(await this.notify("grant.expired", grant)));
    return { expired, deliveries, refreshed };
  }

  /**
   * Nylas' token refreshes alone: for every valid Microsoft grant whose secret
   * exists, has propagated and is within its validity, a sign-in with that key
   * is recorded at the clock's now, once per key however many grants use it.
   * Grants whose secret is gone or expired are left alone (`tick()` expires them).
   */
  refreshGrants(): GrantRefresh[] {
    return this.#sweep(false).refreshed;
  }

  /** One pass over the grants, O(grants) with a lookup per distinct (app, key). */
  #sweep(expire: boolean): { expired: SimGrant[]; refreshed: GrantRefresh[] } {
    const tenant = this.#tenant;
    const now = tenant.clock.now().getTime();
    const expired: SimGrant[] = [];
    type KeyState = {
      app: SimApp | undefined;
      password: SimPassword | undefined;
      usable: boolean;
      grants: number;
    };
    const keys = new Map<string, KeyState>();
    for (const grant of tenant.nylas.grants) {
      if (grant.provider !== "microsoft" || grant.grant_status !== "valid") continue;
      const id = `${grant.clientId ?? ""}|${grant.secretKeyId ?? ""}`;
      let state = keys.get(id);
      if (state === undefined) {
        const app = grant.clientId === undefined ? undefined : tenant.appByAppId(grant.clientId);
        const password = app?.passwordCredentials.find((p) => p.keyId === grant.secretKeyId);
        state = {
          app,
          password,
          usable: password !== undefined && tenant.judgePassword(password).ok,
          grants: 0,
        };
        keys.set(id, state);
      }
      if (!state.password || now >= Date.parse(state.password.endDateTime)) {
        if (expire) {
          grant.grant_status = "invalid";
          expired.push(grant);
        }
        continue;
      }
      if (state.usable) state.grants++;
    }
    const refreshed: GrantRefresh[] = [];
    const at = tenant.clock.now();
    for (const state of keys.values()) {
      if (state.grants === 0 || !state.app || !state.password) continue;
      const signIn = tenant.recordSignIn(state.app.id, state.password.keyId, at);
      refreshed.push({ appId: state.app.appId, keyId: state.password.keyId, grants: state.grants, signIn });
    }
    return { expired, refreshed };
  }

  // ------------------------------------------------------------ notifications

  /**
   * Builds a signed notification without sending it. The signature uses
   * `webhookSecret`, or the secret of the first webhook destination.
   */
  buildNotification(
    type: GrantNotificationType,
    grant: SimGrant,
    options: BuildNotificationOptions = {},
  ): BuiltNotification {
    const notification = this.#notification(type, grant, options);
    const secret = options.webhookSecret ?? this.#tenant.nylas.webhooks[0]?.webhook_secret;
    if (secret === undefined)
      throw new Error("no webhook secret: pass options.webhookSecret or add a webhook");
    return {
      notification,
      ...signPayload(notification, secret, {
        compressed: options.compressed ?? false,
        style: options.signatureStyle ?? "plain",
      }),
    };
  }

  /**
   * Sends a notification of `type` about `grant` to every active or failing
   * webhook destination subscribed to it; resolves with the first attempt to
   * each. Retries (see `retryPolicy`) go on in the background: `settle()` waits.
   */
  async notify(
    type: GrantNotificationType,
    grant: SimGrant,
    options: NotificationOptions = {},
  ): Promise<NotificationDelivery[]> {
    const notification = this.#notification(type, grant, options);
    const policy = { ...this.retryPolicy };
    const targets = this.#targets(type);
    const first = await Promise.all(targets.map((w) => this.#attempt(notification, w, policy)));
    if (first.some((d) => d.willRetry)) {
      const retrying = targets.filter((_, i) => first[i]?.willRetry === true);
      this.#track(this.#retry(notification, retrying, policy));
    }
    return first;
  }

  /**
   * Sends like `notify` without waiting: what the API does after answering (Nylas
   * delivers asynchronously). `settle()` waits for these.
   */
  notifyInBackground(type: GrantNotificationType, grant: SimGrant, options: NotificationOptions = {}): void {
    this.#track(this.notify(type, grant, options));
  }

  /**
   * What `POST /v3/webhooks/send-test-event` does: POSTs the documented mock
   * notification for `triggerType` (`id: "mock-id"`, grant triggers with
   * `grant_id: "NYLAS_GRANT_ID"`) to `url`, once, signed with
   * `mock-webhook-secret` (or see `testEventSecret`). A registered destination
   * with that URL lends its `compressed_delivery` and signature style.
   */
  async sendTestEvent(triggerType: TestEventTriggerType, url: string): Promise<NotificationDelivery> {
    if (!(TEST_EVENT_TRIGGER_TYPES as readonly string[]).includes(triggerType))
      throw new Error(`trigger_type '${triggerType}' cannot be sent as a test event`);
    const destination = this.#tenant.nylas.webhooks.find((w) => w.webhook_url === url);
    const secret =
      this.testEventSecret === "destination" && destination ? destination.webhook_secret : TEST_EVENT_SECRET;
    const payload = mockPayload(triggerType);
    const signed = signPayload(payload, secret, {
      compressed: destination?.compressed_delivery === true,
      style: destination?.signatureStyle ?? "plain",
    });
    const delivery = await this.#post(url, signed, {
      notificationId: payload.id,
      type: triggerType,
      webhookId: destination?.id ?? "",
      attempt: 1,
      test: true,
    });
    this.deliveries.push(delivery);
    return delivery;
  }

  /**
   * Waits until every background delivery (hosted auth, API deletes, retries)
   * has finished. With `{ cancelRetries: true }` retries waiting out their
   * back-off, or about to, are dropped instead of waited for.
   */
  async settle(options: { cancelRetries?: boolean } = {}): Promise<void> {
    if (!options.cancelRetries) {
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
      return;
    }
    this.#draining = true;
    try {
      this.cancelRetries();
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    } finally {
      this.#draining = false;
    }
  }

  /** Cancels every scheduled retry (they are not sent); returns how many were waiting. */
  cancelRetries(): number {
    const n = this.#sleepers.size;
    for (const sleeper of [...this.#sleepers]) {
      clearTimeout(sleeper.timer);
      this.#sleepers.delete(sleeper);
      sleeper.resolve(false);
    }
    return n;
  }

  /** Failed attempts in a row to a destination, as `destinationHealth` counts them. */
  destinationFailures(webhookId: string): number {
    return this.#failures.get(webhookId) ?? 0;
  }

  /** Forgets a destination's failure count (a PUT reactivating it does this). */
  resetDestinationHealth(webhookId: string): void {
    this.#failures.delete(webhookId);
  }

  #notification(
    type: GrantNotificationType,
    grant: SimGrant,
    options: NotificationOptions & { id?: string; attempt?: number },
  ): NylasNotification {
    const integrationId = this.#tenant.nylas.connector?.id ?? "";
    const common = { grant_id: grant.id, integration_id: integrationId, provider: grant.provider };
    let object: Record<string, unknown>;
    switch (type) {
      case "grant.created":
        object = {
          code: 25012,
          ...common,
          login_id: newGuid(),
          email: grant.email,
          ...(grant.name !== undefined ? { name: grant.name } : {}),
          scope: [...grant.scope],
        };
        break;
      case "grant.updated":
        object = {
          code: options.reauthentication ? 25027 : 25014,
          ...common,
          email: grant.email,
          reauthentication_flag: options.reauthentication ?? false,
        };
        break;
      case "grant.deleted":
        object = { code: 25013, ...common, email: grant.email };
        break;
      case "grant.expired":
        object = { code: 25009, ...common, email: grant.email, grant_updated_at: grant.updated_at };
        break;
    }
    if (options.nulls) {
      for (const field of ["email", "provider", "grant_updated_at"])
        if (field in object) object[field] = null;
    }
    return {
      specversion: "1.0",
      type,
      source: "/nylas/system",
      id: options.id ?? newGuid(),
      time: this.#nowSeconds(),
      webhook_delivery_attempt: options.attempt ?? 1,
      data: { application_id: this.#tenant.nylas.applicationId, object },
    };
  }

  /** Destinations that receive `type` now: subscribed, and active or failing. */
  #targets(type: string): SimWebhook[] {
    return this.#tenant.nylas.webhooks.filter((w) => deliverable(w) && w.trigger_types.includes(type));
  }

  /** Attempts 2… of one notification, with real-time back-off; stops when nothing is left to retry. */
  async #retry(notification: NylasNotification, failed: SimWebhook[], policy: RetryPolicy): Promise<void> {
    const attempts = Math.max(1, Math.floor(policy.attempts));
    let pending = failed;
    for (let attempt = 2; attempt <= attempts; attempt++) {
      const delay = Math.min(
        policy.maxDelayMs ?? Infinity,
        Math.max(0, policy.baseDelayMs) * (policy.factor ?? 2) ** (attempt - 2),
      );
      if (!(await this.#sleep(delay))) return;
      // A destination deleted, paused or failed meanwhile gets nothing more.
      const targets = policy.fanOut
        ? this.#targets(notification.type)
        : pending.filter((w) => this.#tenant.nylas.webhooks.includes(w) && deliverable(w));
      const again: NylasNotification = { ...notification, webhook_delivery_attempt: attempt };
      const results = await Promise.all(targets.map((w) => this.#attempt(again, w, policy)));
      pending = targets.filter((_, i) => results[i]?.willRetry === true);
      if (pending.length === 0) return;
    }
  }

  /** One POST of one notification to one destination, recorded in `deliveries` and in its health. */
  async #attempt(
    notification: NylasNotification,
    webhook: SimWebhook,
    policy: RetryPolicy,
  ): Promise<NotificationDelivery> {
    const signed = signPayload(notification, webhook.webhook_secret, {
      compressed: webhook.compressed_delivery === true,
      style: webhook.signatureStyle ?? "plain",
    });
    const attempt = notification.webhook_delivery_attempt;
    const delivery = await this.#post(webhook.webhook_url, signed, {
      notificationId: notification.id,
      type: notification.type,
      webhookId: webhook.id,
      attempt,
    });
    const retryable =
      !delivery.ok &&
      (delivery.status === 0 || (policy.retryOn ?? NYLAS_RETRY_STATUSES).includes(delivery.status));
    delivery.willRetry = retryable && attempt < Math.floor(policy.attempts);
    this.deliveries.push(delivery);
    this.#recordHealth(webhook, delivery.ok);
    this.#deps.logger.debug(
      `sim nylas: ${notification.type} for ${String(notification.data.object.grant_id)} -> webhook ${webhook.id} ` +
        `(attempt ${attempt}): ${delivery.status}${delivery.willRetry ? ", will retry" : ""}`,
    );
    return delivery;
  }

  async #post(
    url: string,
    signed: SignedPayload,
    meta: Pick<NotificationDelivery, "notificationId" | "type" | "webhookId" | "attempt" | "test">,
  ): Promise<NotificationDelivery> {
    const doFetch = this.#deps.fetch ?? fetch;
    const base = {
      ...meta,
      url,
      willRetry: false,
      compressed: signed.compressed,
      at: this.#tenant.clock.now(),
      body: signed.body,
    };
    try {
      // Nylas gives the endpoint 10 s to answer, then counts the attempt as failed.
      const res = await doFetch(url, {
        method: "POST",
        headers: signed.headers,
        body: signed.compressed ? signed.bodyBytes : signed.body,
        signal: AbortSignal.timeout(this.deliveryTimeoutMs),
      });
      await res.arrayBuffer();
      return { ...base, status: res.status, ok: res.status >= 200 && res.status < 300 };
    } catch (error) {
      return { ...base, status: 0, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  #recordHealth(webhook: SimWebhook, ok: boolean): void {
    const policy = this.destinationHealth;
    if (!policy) return;
    const setStatus = (status: SimWebhook["status"]) => {
      webhook.status = status;
      webhook.status_updated_at = this.#nowSeconds();
      this.#deps.logger.debug(`sim nylas: webhook ${webhook.id} is now ${status}`);
    };
    if (ok) {
      this.#failures.set(webhook.id, 0);
      if (webhook.status === "failing") setStatus("active");
      return;
    }
    const failures = (this.#failures.get(webhook.id) ?? 0) + 1;
    this.#failures.set(webhook.id, failures);
    if (webhook.status === "active" && failures >= policy.failingAfter) setStatus("failing");
    if (webhook.status === "failing" && failures >= policy.failedAfter) setStatus("failed");
  }

  /** Resolves true after `ms` of wall-clock time, or false when `cancelRetries()` ends the wait. */
  #sleep(ms: number): Promise<boolean> {
    if (this.#draining) return Promise.resolve(false);
    return new Promise((resolve) => {
      const sleeper = {
        resolve,
        timer: setTimeout(() => {
          this.#sleepers.delete(sleeper);
          resolve(true);
        }, ms),
      };
      this.#sleepers.add(sleeper);
    });
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => {
      this.#deps.logger.error("sim nylas: notification delivery failed", error);
    });
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #requireGrant(grantId: string): SimGrant {
    const grant = this.#tenant.nylas.grantById(grantId);
    if (!grant) throw new Error(`no grant ${grantId}`);
    return grant;
  }
}

/** Destinations Nylas still sends to. */
function deliverable(webhook: SimWebhook): boolean {
  return webhook.status === "active" || webhook.status === "failing";
}

interface SignedPayload {
  body: string;
  bodyBytes: Buffer;
  compressed: boolean;
  headers: Record<string, string>;
}

/**
 * Serialises and signs: `x-nylas-signature` = hex HMAC-SHA256 of the exact bytes
 * sent, keyed with the webhook secret; for a compressed delivery those are the
 * gzip bytes ("verify … against the raw compressed body before decompressing").
 */
function signPayload(
  payload: unknown,
  secret: string,
  options: { compressed: boolean; style: SignatureStyle },
): SignedPayload {
  const body = JSON.stringify(payload);
  const bodyBytes = options.compressed ? gzipSync(Buffer.from(body, "utf8")) : Buffer.from(body, "utf8");
  const hex = createHmac("sha256", secret).update(bodyBytes).digest("hex");
  return {
    body,
    bodyBytes,
    compressed: options.compressed,
    headers: {
      "content-type": "application/json",
      ...(options.compressed ? { "content-encoding": "gzip" } : {}),
      "x-nylas-signature": styleSignature(hex, options.style),
    },
  };
}

function styleSignature(hex: string, style: SignatureStyle): string {
  switch (style) {
    case "plain":
      return hex;
    case "upper":
      return hex.toUpperCase();
    case "prefixed":
      return `sha256=${hex}`;
    case "padded":
      return `  ${hex} `;
  }
}

/**
 * The example notification Nylas's docs show for a trigger
 * (developer.nylas.com/docs/v3/notifications/notification-schemas): `id:
 * "mock-id"`, placeholder ids, no `webhook_delivery_attempt`.
 */
function mockPayload(type: TestEventTriggerType): { id: string } & Record<string, unknown> {
  const grantIds = { grant_id: "NYLAS_GRANT_ID", integration_id: "NYLAS_INTEGRATION_ID" };
  let object: Record<string, unknown>;
  switch (type) {
    case "grant.created":
      object = { code: 25012, ...grantIds, login_id: "mock-login-id", provider: "google" };
      break;
    case "grant.updated":
      object = { code: 25014, ...grantIds, provider: "microsoft", reauthentication_flag: false };
      break;
    case "grant.deleted":
      object = { code: 25013, ...grantIds, provider: "google" };
      break;
    case "grant.expired":
      object = { code: 25009, ...grantIds, provider: "google" };
      break;
    default:
      object = { grant_id: "mock-grant-id", id: "mock-object-id", object: type.split(".")[0] };
  }
  const application = type.startsWith("grant.") ? "NYLAS_APPLICATION_ID" : "mock-application-id";
  return {
    specversion: "1.0",
    type,
    source: "/nylas/system",
    id: "mock-id",
    time: MOCK_TIME,
    data: { application_id: application, object },
  };
}
