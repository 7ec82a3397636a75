/**
 * The facts doctor's checks share, each fetched once (memoised) and only when
 * a check first asks: the Nylas connector (through whichever region accepts the
 * API key), the app registration, service principals, the watchdog's own token
 * claims, the rotation record. A check asks for a fact it owns and reports its
 * failure; a check that merely needs it calls `need…`, which turns a missing or
 * failed fact into a `skip` naming the check that explains why.
 */
import { FOREIGN, installedKey, type KeyRecord } from "../rotation/records.js";
import type { Config } from "../config.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { HttpError, isHttpError } from "../errors.js";
import { NylasClient, type MicrosoftConnector } from "../clients/nylas.js";
import type { GraphApplication, GraphClient, ServicePrincipal } from "../clients/graph.js";
import type { StateStore } from "../state/store.js";
import { SkipCheck } from "./check.js";
import { EXCHANGE_APP_ID, GRAPH_APP_ID } from "../microsoft/identifiers.js";
import { NYLAS_REGIONS, regionOf, type NylasRegionName, type NylasRegionUrls } from "./nylas-regions.js";

/** What doctor reads from the app registration in one request. */
export const DOCTOR_APP_SELECT = [
  "id",
  "appId",
  "displayName",
  "signInAudience",
  "passwordCredentials",
  "keyCredentials",
  "web",
  "spa",
  "publicClient",
  "requiredResourceAccess",
] as const;

export interface DoctorDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  nylas: NylasClient;
  graph: () => Promise<GraphClient>;
  store: () => Promise<StateStore>;
}

export interface DoctorOptions {
  /** Base URLs of the two Nylas regions (tests: the simulator's two servers). */
  nylasRegions?: NylasRegionUrls;
  /** Builds a Nylas client for another base URL; default: a NylasClient with the same key. */
  nylasClientFor?: (apiUri: string) => NylasClient;
  /**
   * On a 401 from NYLAS_API_URI, try the API key against the other public
   * region (`doctor --probe-regions`). Off by default: the key is never sent to
   * a host the operator did not configure unless asked.
   */
  probeRegions?: boolean;
}

/** What the rotation feature records about the secret it put into the connector. */
export interface ConnectorSecretRecord {
  appId: string;
  keyId: string;
  installedAt: string;
  [key: string]: unknown;
}

/** Where the Nylas API key works, if anywhere. */
export type NylasProbe =
  | {
      kind: "ok";
      /** "wrong-region": NYLAS_API_URI answered 401 but this other region accepted the key. */
      where: "configured" | "wrong-region";
      apiUri: string;
      region: NylasRegionName | undefined;
      client: NylasClient;
      connector: MicrosoftConnector | undefined;
    }
  | {
      kind: "refused";
      error: HttpError;
      tried: string[];
      /** Hosts tried that did not answer at all (not a verdict on the key). */
      unreachable: string[];
      /** The other region was not tried (no --probe-regions). */
      probedRegions: boolean;
    }
  | { kind: "error"; error: unknown };

/** A service doctor could not reach at all (exit 3). */
export type DoctorService = "nylas" | "graph";

export class DoctorContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly regions: NylasRegionUrls;
  /** Services that could not be reached at all; the command exits 3 when any is. */
  readonly unreachable = new Set<DoctorService>();

  readonly #deps: DoctorDeps;
  readonly #clientFor: (apiUri: string) => NylasClient;
  readonly #probeRegions: boolean;
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(deps: DoctorDeps, options: DoctorOptions = {}) {
    this.#deps = deps;
    this.config = deps.config;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.regions = options.nylasRegions ?? NYLAS_REGIONS;
    this.#probeRegions = options.probeRegions === true;
    this.#clientFor =
      options.nylasClientFor ??
      ((apiUri) =>
        new NylasClient({
          apiKey: deps.config.nylas.apiKey,
          apiUri,
          clock: deps.clock,
          logger: deps.logger,
        }));
  }

  /** Runs `make` once per key; a rejection is remembered too (and marks an unreachable service). */
  #once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.#memo.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = make().catch((error: unknown) => {
        this.noteError(error);
        throw error;
      });
      this.#memo.set(key, value);
    }
    return value;
  }

  /** Records a service that did not answer at all (no HTTP status). */
  noteError(error: unknown): void {
    if (isHttpError(error) && error.statusCode === 0) {
      if (error.service === "nylas") this.unreachable.add("nylas");
      if (error.service === "graph" || error.service === "entra") this.unreachable.add("graph");
    }
  }

  // ------------------------------------------------------------ Nylas

  /**
   * Tries the API key against NYLAS_API_URI (reading the Microsoft connector,
   * which every later check needs anyway); on 401, against the other region.
   */
  nylasProbe(): Promise<NylasProbe> {
    return this.#once("nylasProbe", async () => {
      const configured = this.config.nylas.apiUri;
      try {
        const connector = await this.#deps.nylas.getMicrosoftConnector();
        return {
          kind: "ok" as const,
          where: "configured" as const,
          apiUri: configured,
          region: regionOf(configured, this.regions),
          client: this.#deps.nylas,
          connector,
        };
      } catch (error) {
        if (!isHttpError(error) || error.statusCode !== 401) {
          this.noteError(error);
          return { kind: "error" as const, error };
        }
        const tried = [configured];
        const unreachable: string[] = [];
        for (const region of this.#probeRegions ? (["us", "eu"] as const) : []) {
          const apiUri = this.regions[region];
          if (regionOf(configured, this.regions) === region) continue;
          const client = this.#clientFor(apiUri);
          try {
            const connector = await client.getMicrosoftConnector();
            tried.push(apiUri);
            return { kind: "ok" as const, where: "wrong-region" as const, apiUri, region, client, connector };
          } catch (other) {
            // A host that never answered says nothing about the key: report it as unreachable, not as refusing.
            if (isHttpError(other) && other.statusCode === 0) unreachable.push(apiUri);
            else tried.push(apiUri);
            this.logger.debug(`doctor: Nylas ${apiUri}: ${(other as Error).message}`);
          }
        }
        return { kind: "refused" as const, error, tried, unreachable, probedRegions: this.#probeRegions };
      }
    });
  }

  /** The Nylas client that accepts the key, or a skip naming nylas.region. */
  async needNylas(): Promise<{ client: NylasClient; apiUri: string; region: NylasRegionName | undefined }> {
    const probe = await this.nylasProbe();
    if (probe.kind !== "ok") throw new SkipCheck("Nylas did not accept the API key (see nylas.region).");
    return { client: probe.client, apiUri: probe.apiUri, region: probe.region };
  }

  /** The Microsoft connector with a client id, or a skip naming connector.present. */
  async needConnector(): Promise<MicrosoftConnector & { clientId: string }> {
    const probe = await this.nylasProbe();
    if (probe.kind !== "ok") throw new SkipCheck("Nylas did not accept the API key (see nylas.region).");
    const connector = probe.connector;
    if (connector === undefined)
      throw new SkipCheck("there is no Microsoft connector (see connector.present).");
    if (connector.clientId === undefined) {
      throw new SkipCheck("the Microsoft connector has no client_id (see connector.present).");
    }
    return { ...connector, clientId: connector.clientId };
  }

  // ------------------------------------------------------------ Graph

  graph(): Promise<GraphClient> {
    return this.#once("graph", () => this.#deps.graph());
  }

  /** The watchdog's own token claims (`oid`, `appid`, `roles`). */
  claims(): Promise<Record<string, unknown>> {
    return this.#once("claims", async () => (await this.graph()).tokenClaims());
  }

  /** The connector's app registration in AZURE_TENANT_ID; undefined when the tenant has none. */
  app(): Promise<GraphApplication | undefined> {
    return this.#once("app", async () => {
      const connector = await this.needConnector();
      return (await this.graph()).getApplicationByAppId(connector.clientId, DOCTOR_APP_SELECT);
    });
  }

  async needApp(): Promise<GraphApplication> {
    let app: GraphApplication | undefined;
    try {
      app = await this.app();
    } catch (error) {
      if (error instanceof SkipCheck) throw error;
      throw new SkipCheck("the app registration could not be read (see app.found).");
    }
    if (app === undefined) throw new SkipCheck("the app registration was not found (see app.found).");
    return app;
  }

  /** A service principal by appId, with the properties doctor reads. */
  servicePrincipal(appId: string): Promise<ServicePrincipal | undefined> {
    return this.#once(`sp:${appId}`, async () =>
      (await this.graph()).getServicePrincipalByAppId(appId, [
        "id",
        "appId",
        "displayName",
        "appOwnerOrganizationId",
        ...(appId === GRAPH_APP_ID || appId === EXCHANGE_APP_ID
          ? ["oauth2PermissionScopes", "appRoles"]
          : []),
      ]),
    );
  }

  // ------------------------------------------------------------ state

  /** The state store (rotation records, installation). */
  store(): Promise<StateStore> {
    return this.#once("state", () => this.#deps.store());
  }

  /**
   * The secret the rotation last installed in the connector (its key record,
   * `lib/rotation/records.ts`); undefined before any rotation ran.
   */
  rotationRecord(): Promise<ConnectorSecretRecord | undefined> {
    return this.#once("rotationRecord", async () => {
      const store = await this.#deps.store();
      const records: KeyRecord[] = [];
      for await (const item of store.list<KeyRecord>("rotation")) {
        if (item.key.startsWith("key:") && item.value.keyId !== FOREIGN) records.push(item.value);
      }
      const latest = installedKey(records);
      return latest === undefined
        ? undefined
        : { appId: latest.appId, keyId: latest.keyId, installedAt: latest.installedAt ?? "" };
    });
  }
}
