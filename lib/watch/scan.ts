/**
 * The watch step: which credentials exist and how close each is to expiry.
 * The rotated app is the one in the Nylas Microsoft connector (nothing to
 * configure); WATCH_APP_IDS adds more, watched and never rotated.
 *
 * Credentials are streamed to a callback as pages arrive and only counts and
 * the soonest few are kept, so memory stays flat however large the tenant.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { ApplicationPage, GraphApplication, GraphClient } from "../clients/graph.js";
import { CREDENTIAL_SELECT, PASSWORD_SELECT } from "../clients/graph.js";
import type { MicrosoftConnector, NylasClient } from "../clients/nylas.js";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import { classify, daysLeft, type CredentialStatus, type Thresholds } from "./classify.js";
import { Soonest } from "./soonest.js";
import {
  connectorAppNotFound,
  connectorProblem,
  watchedReadProblem,
  type ScanProblem,
} from "./scan-problems.js";

export type { ScanProblem } from "./scan-problems.js";

export interface CredentialReport {
  appId: string;
  appObjectId: string;
  appDisplayName: string | null;
  /** "connector": the app in the Nylas Microsoft connector (rotated); "watched": from WATCH_APP_IDS. */
  source: "connector" | "watched";
  type: "password" | "certificate";
  keyId: string;
  displayName: string | null;
  /** First three characters of a secret (Graph's `hint`); never more. */
  hint: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
  daysLeft: number | null;
  status: CredentialStatus;
  /**
   * The connector app's secrets only, when Entra's sign-in report is readable:
   * its last sign-in with this secret (ISO 8601), null = none reported.
   */
  lastSignIn?: string | null;
}

export interface ScanSummary {
  connector: MicrosoftConnector | null;
  apps: number;
  credentials: number;
  counts: Record<CredentialStatus, number>;
  /** The soonest-expiring credentials, soonest first (at most `keepSoonest`). */
  soonest: CredentialReport[];
  problems: ScanProblem[];
  /** Entra's per-credential sign-in report for the connector's app: readable, or why not. */
  signIns: { readable: boolean; error?: string };
  /** The same report, per connector secret (keyId → last sign-in): the pass decides on it, no second read. */
  signInsByKey: ReadonlyMap<string, string | null>;
}

export interface ScanDeps {
  nylas: NylasClient;
  graph: () => Promise<GraphClient>;
  clock: Clock;
  logger: Logger;
}

export interface ScanOptions {
  watchAppIds: string[] | "*";
  thresholds: Thresholds;
  /** Called once per credential, in the order read. */
  onCredential?: (report: CredentialReport) => void;
  /**
   * Called with the connector's app registration as read (rotation works on the same read); awaited
   * before any of its credentials is reported.
   */
  onConnectorApp?: (app: GraphApplication) => void | Promise<void>;
  /** Called after each page of apps with the running app count. */
  onProgress?: (appsRead: number) => void;
  keepSoonest?: number;
}

/** Parsed once per credential for both `daysLeft` and `classify` (the same parse `Date.parse` does). */
function endOf(endDateTime: string | null): Date | null {
  return endDateTime === null ? null : new Date(endDateTime);
}

export function reportsForApp(
  app: GraphApplication,
  source: CredentialReport["source"],
  now: Date,
  thresholds: Thresholds,
): CredentialReport[] {
  const out: CredentialReport[] = [];
  // Each report is written out in full, field by field (no spread of a shared base): every report
  // then has the same shape from the start, which V8 builds and JSON.stringify writes fastest.
  for (const p of app.passwordCredentials) {
    const end = endOf(p.endDateTime);
    out.push({
      appId: app.appId,
      appObjectId: app.id,
      appDisplayName: app.displayName,
      source,
      type: "password",
      keyId: p.keyId,
      displayName: p.displayName,
      hint: p.hint,
      startDateTime: p.startDateTime,
      endDateTime: p.endDateTime,
      daysLeft: daysLeft(end, now),
      status: classify(end, now, thresholds),
    });
  }
  for (const k of app.keyCredentials) {
    const end = endOf(k.endDateTime);
    out.push({
      appId: app.appId,
      appObjectId: app.id,
      appDisplayName: app.displayName,
      source,
      type: "certificate",
      keyId: k.keyId,
      displayName: k.displayName,
      hint: null,
      startDateTime: k.startDateTime,
      endDateTime: k.endDateTime,
      daysLeft: daysLeft(end, now),
      status: classify(end, now, thresholds),
    });
  }
  return out;
}

interface ConnectorAppRead {
  app: GraphApplication | undefined;
  signIns: ScanSummary["signIns"];
  lastSignIn?: Map<string, string | null>;
}

/** The connector's app beside Entra's sign-in report: which secret is still in use (AuditLog.Read.All). */
async function readConnectorApp(graph: GraphClient, appId: string): Promise<ConnectorAppRead> {
  const [app, report] = await Promise.all([
    graph.getApplicationByAppId(appId, CREDENTIAL_SELECT),
    graph.listCredentialSignIns(appId).then(
      (rows) => ({ rows }),
      (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
    ),
  ]);
  if (!("rows" in report)) return { app, signIns: { readable: false, error: report.error } };
  const lastSignIn = new Map(report.rows.map((r) => [r.keyId, r.lastSignInDateTime]));
  return { app, signIns: { readable: true }, lastSignIn };
}

type Emit = (app: GraphApplication, source: CredentialReport["source"]) => void;

interface WatchedRead {
  graph: GraphClient;
  pages: AsyncGenerator<ApplicationPage> | undefined;
  firstPage: IteratorResult<ApplicationPage> | undefined;
  connectorAppId: string | undefined;
  emit: Emit;
  problems: ScanProblem[];
}

/**
 * How many apps the scan handles before it lets the event loop turn. The page read ahead
 * (graph-pages.ts) is asked for as a page is handed over, but its request leaves only once the
 * SDKs' callbacks have run, and they wait for the event loop: checking and writing a page of 999
 * apps in one go held the next page's request back until the page was done (under
 * `undici:client:sendHeaders`, 30–50 ms after it was asked for; 2026-12-02). With a turn every 32
 * apps, it leaves within a few milliseconds, and Graph's time to build it overlaps the scan's work
 * on the page before. 10k apps take about 300 turns, a few microseconds each.
 */
const APPS_PER_TURN = 32;

/** Every app of the tenant but the connector's, page by page (WATCH_APP_IDS=*); a malformed one is a problem. */
async function scanAllApps(read: WatchedRead, onPage: () => void): Promise<void> {
  const { pages, connectorAppId, emit } = read;
  for (let next = read.firstPage; next !== undefined && next.done !== true; next = await pages?.next()) {
    let inTurn = 0;
    for (const { appId, app, error } of next.value) {
      if (++inTurn === APPS_PER_TURN) {
        inTurn = 0;
        await nextTurn();
      }
      if (appId.toLowerCase() === connectorAppId) continue;
      if (app !== undefined) emit(app, "watched");
      else read.problems.push(watchedReadProblem(appId, error));
    }
    onPage();
  }
}

/** The apps WATCH_APP_IDS lists, but the connector's; an app that cannot be read is a problem. */
async function scanListedApps(read: WatchedRead, watchAppIds: readonly string[]): Promise<void> {
  const ids = watchAppIds.filter((id) => id !== read.connectorAppId);
  for await (const { appId, app, error } of read.graph.getApplicationsByAppIds(ids, CREDENTIAL_SELECT)) {
    if (error === undefined && app !== undefined) read.emit(app, "watched");
    else read.problems.push(watchedReadProblem(appId, error));
  }
}

/** Reads the connector and every watched app; streams credentials; returns the summary. */
export async function scanCredentials(deps: ScanDeps, options: ScanOptions): Promise<ScanSummary> {
  const now = deps.clock.now();
  const soonest = new Soonest<CredentialReport>(options.keepSoonest ?? 100);
  const counts: Record<CredentialStatus, number> = { expired: 0, critical: 0, "rotation-due": 0, ok: 0 };
  const problems: ScanProblem[] = [];
  let apps = 0;
  let credentials = 0;

  let lastSignIn: Map<string, string | null> | undefined;
  let signIns: ScanSummary["signIns"] = { readable: false, error: "not read" };
  const emit: Emit = (app, source) => {
    apps++;
    for (const report of reportsForApp(app, source, now, options.thresholds)) {
      if (source === "connector" && report.type === "password" && lastSignIn !== undefined)
        report.lastSignIn = lastSignIn.get(report.keyId) ?? null;
      credentials++;
      counts[report.status]++;
      soonest.offer(report);
      options.onCredential?.(report);
    }
  };
  const progress = () => options.onProgress?.(apps);

  const watchAppIds = options.watchAppIds;
  // Graph first, then Nylas beside it. The Graph client asks for its first token as it is built
  // (token-ahead.ts), then Nylas's SDK loads and its request leaves beside the token's;
  // for "*" the first page of /applications is asked for as soon as the client exists, and keeps
  // coming while the connector's app is read. The page is held until the connector's own app has
  // been written, so the output order is the same.
  const graphReady = deps.graph();
  const graphSide = (async () => {
    const graph = await graphReady;
    const pages = watchAppIds === "*" ? graph.listApplicationReadPages(PASSWORD_SELECT) : undefined;
    const firstPage = pages?.next();
    // Awaited below, after the connector's app: a failure surfaces there, not as an unhandled rejection.
    firstPage?.catch(() => undefined);
    return { graph, pages, firstPage };
  })();
  const [connectorOrUndefined, { graph, pages, firstPage: firstPageComing }] = await Promise.all([
    graphReady.then(() => deps.nylas.getMicrosoftConnector()),
    graphSide,
  ]);
  const connector = connectorOrUndefined ?? null;
  const connectorAppId = connector?.clientId?.toLowerCase();

  const notRotatable = connectorProblem(connector, connectorAppId);
  if (notRotatable !== undefined) problems.push(notRotatable);
  else if (connectorAppId !== undefined) {
    const read = await readConnectorApp(graph, connectorAppId);
    ({ lastSignIn, signIns } = read);
    if (read.app === undefined) problems.push(connectorAppNotFound(connectorAppId, connector?.tenant));
    else {
      await options.onConnectorApp?.(read.app);
      emit(read.app, "connector");
    }
  }
  progress();

  const firstPage = await firstPageComing;
  const watched: WatchedRead = { graph, pages, firstPage, connectorAppId, emit, problems };
  if (watchAppIds === "*") await scanAllApps(watched, progress);
  else {
    await scanListedApps(watched, watchAppIds);
    progress();
  }

  deps.logger.info(
    `scan: ${apps} app(s), ${credentials} credential(s): ${counts.expired} expired, ${counts.critical} critical, ${counts["rotation-due"]} rotation due, ${counts.ok} ok`,
  );
  return {
    connector,
    apps,
    credentials,
    counts,
    soonest: soonest.items,
    problems,
    signIns,
    signInsByKey: lastSignIn ?? new Map(),
  };
}

/** Exit code of `scan`: 1 when anything is expired, within ALERT_BEFORE_DAYS, or could not be checked. */
export function scanExitCode(summary: ScanSummary): 0 | 1 {
  return summary.counts.expired > 0 || summary.counts.critical > 0 || summary.problems.length > 0 ? 1 : 0;
}
