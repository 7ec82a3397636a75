/**
 * The simulator: HTTPS servers on 127.0.0.1 that speak Entra's token
 * endpoint, Microsoft Graph, Nylas v3 (two regions) and the alert sinks, so
 * tests and `watchdog sandbox` drive the real SDKs (@azure/identity,
 * @microsoft/microsoft-graph-client, nylas) against a tenant they control.
 *
 *   const sim = await startSimulator({ clock });
 *   const config = loadConfig(sim.env());
 *   …
 *   await sim.close();
 */
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { systemClock, type Clock } from "../clock.js";
import { silentLogger, type Logger } from "../logger.js";
import { createEntraService } from "./entra.js";
import { FaultInjector, type SimService } from "./faults.js";
import { createGraphService } from "./graph.js";
import {
  dispatch,
  RequestLog,
  startServiceServer,
  type DispatchContext,
  type RecordedRequest,
  type ServiceHandler,
  type ServiceServer,
} from "./http.js";
import { newGuid } from "./ids.js";
import { createNylasService } from "./nylas.js";
import { NylasControl } from "./nylas-control.js";
import { createSinksService, SinkReceiver } from "./sinks.js";
import { SimTenant, type NylasRegion, type SimApp } from "./tenant.js";
import { sharedSimulatorCertificates, trustCa, writeCaFile, type SimulatorCertificates } from "./tls.js";
import { TokenSigner } from "./token.js";
import { GRAPH_APP_ID, GRAPH_SCOPES } from "./well-known.js";

export { createSimulatorCertificates, sharedSimulatorCertificates, trustCa, writeCaFile } from "./tls.js";
export type { SimulatorCertificates } from "./tls.js";
export { FaultInjector } from "./faults.js";
export type { Fault, FaultResponse, FaultSpec, SimService } from "./faults.js";
export type { RecordedRequest } from "./http.js";
export { SimNylas, SimTenant } from "./tenant.js";
export type * from "./tenant.js";
export {
  NYLAS_RETRY_POLICY,
  NYLAS_RETRY_STATUSES,
  NylasControl,
  SignInError,
  TEST_EVENT_SECRET,
  TEST_EVENT_TRIGGER_TYPES,
} from "./nylas-control.js";
export type {
  AuthLogEntry,
  AuthorizeParams,
  AuthorizeResult,
  BuildNotificationOptions,
  BuiltNotification,
  DestinationHealthPolicy,
  GrantNotificationType,
  GrantRefresh,
  NotificationDelivery,
  NotificationOptions,
  NylasNotification,
  RetryPolicy,
  TestEventTriggerType,
} from "./nylas-control.js";
export { SinkReceiver, SLACK_BLOCK_LIMITS, blockKitProblem } from "./sinks.js";
export { GRANTS_QUERY_PARAMETERS } from "./nylas.js";
export type { SinkName, SinkReceipt } from "./sinks.js";
export {
  EXCHANGE_APP_ID,
  EXCHANGE_SCOPES,
  GRAPH_APP_ID,
  GRAPH_APP_ROLES,
  GRAPH_SCOPES,
} from "./well-known.js";

const DAY_MS = 86_400_000;

/** The scenario `startSimulator` builds unless `seed: false`. */
export interface SeedOptions {
  /** Days until the Nylas connector's current Azure secret expires. Default 180. */
  connectorSecretDaysLeft?: number;
  /** Users with valid Microsoft grants, authenticated with that secret. Default three. */
  grantEmails?: string[];
  /** Scopes of the connector (and of the Azure app's required access). */
  scopes?: string[];
}

/** Options of `startSimulator`; every one has a default. */
export interface SimulatorOptions {
  /** Drives every expiry, propagation and timestamp decision. Default: the system clock. */
  clock?: Clock;
  /** A new secret is refused (AADSTS7000215) until created + this, by the clock. Default 0. */
  propagationDelayMs?: number;
  /** Pre-generated certificates; default: generated once per process and shared. */
  certificates?: SimulatorCertificates;
  /** Make this process trust the simulator's CA. Default true. */
  trust?: boolean;
  logger?: Logger;
  /** Record requests in `requests`. Default true. */
  recordRequests?: boolean;
  /** Oldest records are dropped beyond this. Default 100,000. */
  maxRecordedRequests?: number;
  /** Region of the Nylas application. Default "us". */
  region?: NylasRegion;
  /** `false` for an empty tenant (only Microsoft's service principals and the watchdog identity). */
  seed?: false | SeedOptions;
  /** Used for webhook deliveries and the webhook challenge. Default: global fetch. */
  fetch?: typeof fetch;
}

/** The watchdog's own app-only identity in the tenant (`AZURE_CLIENT_ID`/`AZURE_CLIENT_SECRET`). */
export interface SimIdentity {
  appId: string;
  objectId: string;
  servicePrincipalId: string;
  secret: string;
}

/** A running simulator. */
export interface Simulator {
  readonly urls: {
    /** `https://127.0.0.1:<port>`, no path: pass as `authorityHost`. */
    authorityHost: string;
    /** `https://127.0.0.1:<port>`, no version: pass as the Graph client's `baseUrl`. */
    graphEndpoint: string;
    /** The US Nylas API. */
    nylasApiUri: string;
    /** The EU Nylas API. */
    nylasEuApiUri: string;
    /** The alert sinks server; see `sinks.urls` for ready-made sink URLs. */
    sinks: string;
  };
  readonly caCertPem: string;
  /** The CA in a temp file, for `NODE_EXTRA_CA_CERTS` of child processes. */
  readonly caFile: string;
  readonly clock: Clock;
  /** The live data model; mutate it to arrange a scenario. */
  readonly tenant: SimTenant;
  /** Every request to every service, in arrival order (bounded). */
  readonly requests: RecordedRequest[];
  readonly faults: FaultInjector;
  readonly sinks: SinkReceiver;
  /** Nylas behaviour: sign-ins, grant expiry, notifications. */
  readonly nylas: NylasControl;
  /** The watchdog's identity: owner of the Nylas Azure app, with Application.ReadWrite.OwnedBy. */
  readonly watchdog: SimIdentity;
  /** The Azure app behind the Nylas connector (undefined with `seed: false`). */
  readonly nylasApp: SimApp | undefined;
  /** Base URL of the Nylas server of the application's region. */
  nylasRegionUrl(): string;
  /**
   * What an application's hosted-auth callback does with the `code` it was sent:
   * `POST /v3/connect/token` over HTTPS, with the application's API key.
   */
  exchangeCode(code: string, redirectUri: string): Promise<Response>;
  /** Same as `nylas.notify`: sends a grant notification to the subscribed webhooks. */
  notify: NylasControl["notify"];
  /** Same as `nylas.buildNotification`: a signed notification body, not sent. */
  buildNotification: NylasControl["buildNotification"];
  /** Settings that point the product at this simulator, plus `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Stops every server (hung connections included) and removes the CA file. */
  close(): Promise<void>;
}

/** Starts the simulator's five HTTPS servers and seeds the tenant. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const certificates = options.certificates ?? (await sharedSimulatorCertificates());
  if (options.trust ?? true) trustCa(certificates.caCertPem);
  const caFile = writeCaFile(certificates.caCertPem);

  const tenant = new SimTenant({ clock, propagationDelayMs: options.propagationDelayMs ?? 0 });
  tenant.nylas.region = options.region ?? "us";
  const faults = new FaultInjector();
  const log = new RequestLog({
    enabled: options.recordRequests ?? true,
    max: options.maxRecordedRequests ?? 100_000,
    now: () => clock.now(),
  });
  const signer = new TokenSigner();
  const sinks = new SinkReceiver();
  const urls = { authorityHost: "", graphEndpoint: "", nylasApiUri: "", nylasEuApiUri: "", sinks: "" };
  const regionUrl = () => (tenant.nylas.region === "eu" ? urls.nylasEuApiUri : urls.nylasApiUri);
  const control = new NylasControl({
    tenant,
    logger,
    regionUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const context = (handler: ServiceHandler): DispatchContext => ({ handler, faults, log, logger });
  const entraCtx = context(
    createEntraService({
      tenant,
      signer,
      authorityHost: () => urls.authorityHost,
      graphEndpoint: () => urls.graphEndpoint,
      logger,
    }),
  );
  const graphCtx = context(undefined as unknown as ServiceHandler);
  graphCtx.handler = createGraphService({
    tenant,
    signer,
    graphEndpoint: () => urls.graphEndpoint,
    dispatchSub: (req) => dispatch(req, graphCtx),
    logger,
  });
  const nylasFor = (region: NylasRegion) =>
    context(
      createNylasService({
        tenant,
        control,
        region,
        logger,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    );
  const sinksCtx = context(createSinksService(sinks, () => clock.now()));

  const servers: ServiceServer[] = [];
  const start = async (service: SimService, ctx: DispatchContext): Promise<string> => {
    const server = await startServiceServer(service, certificates, ctx);
    servers.push(server);
    return server.url;
  };
  try {
    urls.authorityHost = await start("entra", entraCtx);
    urls.graphEndpoint = await start("graph", graphCtx);
    urls.nylasApiUri = await start("nylas", nylasFor("us"));
    urls.nylasEuApiUri = await start("nylas-eu", nylasFor("eu"));
    urls.sinks = await start("sinks", sinksCtx);
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    throw error;
  }
  sinks.setBaseUrl(urls.sinks);

  const identity = tenant.addIdentity("secret-watchdog (local)", ["Application.ReadWrite.OwnedBy"]);
  const watchdog: SimIdentity = {
    appId: identity.app.appId,
    objectId: identity.app.id,
    servicePrincipalId: identity.servicePrincipal.id,
    secret: identity.secret,
  };
  const nylasApp =
    options.seed === false ? undefined : seedScenario(tenant, watchdog, regionUrl(), options.seed ?? {});
  logger.info(
    `simulator listening: entra ${urls.authorityHost}, graph ${urls.graphEndpoint}, nylas ${urls.nylasApiUri} (eu ${urls.nylasEuApiUri}), sinks ${urls.sinks}`,
  );

  let closed = false;
  return {
    urls,
    caCertPem: certificates.caCertPem,
    caFile,
    clock,
    tenant,
    requests: log.entries,
    faults,
    sinks,
    nylas: control,
    watchdog,
    nylasApp,
    nylasRegionUrl: regionUrl,
    exchangeCode: (code, redirectUri) =>
      fetch(`${regionUrl()}/v3/connect/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          client_id: tenant.nylas.applicationId,
          client_secret: tenant.nylas.apiKey,
          grant_type: "authorization_code",
          code,
          redirect_uri: redirectUri,
        }),
      }),
    notify: (type, grant, notifyOptions) => control.notify(type, grant, notifyOptions),
    buildNotification: (type, grant, buildOptions) => control.buildNotification(type, grant, buildOptions),
    env(extra = {}) {
      return {
        NYLAS_API_KEY: tenant.nylas.apiKey,
        NYLAS_API_URI: regionUrl(),
        AZURE_TENANT_ID: tenant.tenantId,
        AZURE_CLIENT_ID: watchdog.appId,
        AZURE_CLIENT_SECRET: watchdog.secret,
        AZURE_AUTHORITY_HOST: urls.authorityHost,
        GRAPH_ENDPOINT: urls.graphEndpoint,
        NODE_EXTRA_CA_CERTS: caFile,
        ...extra,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      // Retries still waiting out their back-off are dropped, not waited for.
      await control.settle({ cancelRetries: true });
      await Promise.all(servers.map((s) => s.close()));
      rmSync(dirname(caFile), { recursive: true, force: true });
    },
  };
}

const DEFAULT_SCOPES = [
  "offline_access",
  "openid",
  "profile",
  "email",
  "User.Read",
  "Mail.ReadWrite",
  "Mail.Send",
  "Calendars.ReadWrite",
];

/**
 * The standard story: an Azure app registered per Nylas' guide (all account
 * types, the region's callback, admin consent for the scopes), owned by the
 * watchdog, with one secret held by the Nylas connector, and a few users
 * signed in under it.
 */
function seedScenario(
  tenant: SimTenant,
  watchdog: SimIdentity,
  regionUrl: string,
  seed: SeedOptions,
): SimApp {
  const now = tenant.clock.now().getTime();
  const scopes = seed.scopes ?? DEFAULT_SCOPES;
  const app = tenant.addApp({
    displayName: "Nylas Microsoft connector",
    signInAudience: "AzureADandPersonalMicrosoftAccount",
    web: { redirectUris: [`${regionUrl}/v3/connect/callback`] },
    requiredResourceAccess: [
      {
        resourceAppId: GRAPH_APP_ID,
        resourceAccess: scopes
          .map((s) => GRAPH_SCOPES[s])
          .filter((id): id is string => id !== undefined)
          .map((id) => ({ id, type: "Scope" as const })),
      },
    ],
    owners: [watchdog.servicePrincipalId],
  });
  const sp = tenant.spByAppId(app.appId);
  if (sp)
    tenant.grantDelegated(
      sp.id,
      GRAPH_APP_ID,
      scopes.filter((s) => GRAPH_SCOPES[s] !== undefined),
    );
  const secret = tenant.addSecret(app.id, {
    displayName: "Nylas connector",
    startDateTime: new Date(now - 30 * DAY_MS),
    endDateTime: new Date(now + (seed.connectorSecretDaysLeft ?? 180) * DAY_MS),
  });
  tenant.nylas.connector = {
    id: newGuid(),
    provider: "microsoft",
    name: "Microsoft",
    settings: { client_id: app.appId, tenant: "common", client_secret: secret.value },
    scope: [...scopes],
    // The connector's default credential; grants record it as their credential_id.
    active_credential_id: newGuid(),
  };
  const created = Math.floor((now - 20 * DAY_MS) / 1000);
  const emails = seed.grantEmails ?? [
    "adele.vance@contoso.com",
    "alex.wilber@contoso.com",
    "megan.bowen@contoso.com",
  ];
  emails.forEach((email, i) => {
    tenant.nylas.addGrant({ email, created_at: created + i * 3600, updated_at: created + i * 3600 });
  });
  return app;
}
