/**
 * `GET /api/health`: what on-call wants at a glance — when each pass last ran
 * and how it went, whether the timers still run, what the deployed identity's
 * last self-check found, the next expiry, the open incidents. No secret, ever:
 * run records and incidents never hold one.
 */
import { errorMessage } from "./errors.js";
import type { Deps } from "./deps.js";
import type { WatchdogPassResult } from "./watchdog-pass.js";
import type { SweepResult } from "./grants/sweep.js";
import { SEVERITY_RANK, type Severity } from "./incidents/incident.js";
import { judgeStaleness, type Staleness } from "./health/staleness.js";
import {
  STALE_KEY,
  reportStaleness,
  type ReportOptions,
  type StalenessPorts,
} from "./health/stale-incident.js";
import { readSelfCheck, type SelfCheckRecord } from "./health/self-check-record.js";

export interface HealthReport {
  /**
   * degraded (health answers 503): a timer stopped, or the self-check found the watchdog cannot read
   * or rotate the connector's secret (a critical `setup.broken`). It outranks attention: a critical
   * incident open, or any other failing self-check.
   */
  status: "ok" | "attention" | "degraded";
  checkedAt: string;
  lastRuns: {
    secretWatchdog: { finishedAt: string; attention: boolean } | null;
    grantSweep: { finishedAt: string; grants: number; invalid: number } | null;
  };
  nextExpiry: WatchdogPassResult["nextExpiry"];
  /** The connector app's secrets as the last pass read them, each with Entra's last sign-in when readable. */
  connectorSecrets: WatchdogPassResult["connectorSecrets"];
  /** Whether the last pass decided migration and retirement on Entra's sign-in evidence, and why (not). */
  evidence: { mode: string; reason: string } | null;
  openIncidents: { key: string; kind: string; severity: string; summary: string; firstSeen: string }[];
  openIncidentCount: number;
  /** Each timer's last success against twice its schedule's interval, and why degraded. */
  staleness: Staleness;
  /** The deployed identity's last self-check; absent until the first has run. */
  selfCheck?: SelfCheckView;
}

/** What health shows of the last self-check. */
export interface SelfCheckView {
  checkedAt: string;
  deployment: string;
  identity: SelfCheckRecord["identity"];
  /** Its `setup.broken:<check>` incidents open, most severe first. */
  failing: SelfCheckRecord["failing"];
  /** Checks that warned (no incident: doctor's "look at this"). */
  warnings: string[];
  /** Checks that could not run (a service did not answer): tried again at the next pass. */
  unknown: string[];
}

export type HealthPorts = StalenessPorts;

/** At most this many incidents are listed (the count is always exact). */
const MAX_LISTED = 50;

interface Runs {
  watchdog: WatchdogPassResult | undefined;
  sweep: SweepResult | undefined;
  staleness: Staleness;
  selfCheck: SelfCheckRecord | undefined;
}

/** The report, read-only. */
export async function readHealth(deps: HealthPorts): Promise<HealthReport> {
  return assemble(deps, await readRuns(deps));
}

/**
 * What a health probe runs: the `watchdog.stale` incident raised or resolved by the verdict of the
 * report, before its incidents are listed (so a fresh raise is in it). A store that refuses the
 * incident write still gets its report answered.
 */
export async function checkHealth(
  deps: HealthPorts & Pick<Deps, "logger">,
  options: ReportOptions = {},
): Promise<HealthReport> {
  const runs = await readRuns(deps);
  try {
    await reportStaleness(deps, runs.staleness, options);
  } catch (error) {
    deps.logger.warn(`health: could not update the ${STALE_KEY} incident: ${errorMessage(error)}`);
  }
  return assemble(deps, runs);
}

async function readRuns(deps: HealthPorts): Promise<Runs> {
  const state = await deps.store();
  const [watchdog, sweep, selfCheck] = await Promise.all([
    state.get<WatchdogPassResult>("runs", "secretWatchdog"),
    state.get<SweepResult>("runs", "grantSweep"),
    readSelfCheck(state),
  ]);
  const now = deps.clock.now();
  const staleness = judgeStaleness({
    runs: { secretWatchdog: watchdog?.value, grantSweep: sweep?.value },
    schedules: deps.config.schedules,
    now,
    startedAt: deps.startedAt ?? now,
  });
  return { watchdog: watchdog?.value, sweep: sweep?.value, staleness, selfCheck };
}

function selfCheckView(record: SelfCheckRecord | undefined): SelfCheckView | undefined {
  if (record === undefined) return undefined;
  const ids = (status: string) => record.checks.filter((c) => c.status === status).map((c) => c.id);
  return {
    checkedAt: record.checkedAt,
    deployment: record.deployment,
    identity: record.identity,
    failing: [...record.failing].sort((a, b) => rankOf(b.severity) - rankOf(a.severity)),
    warnings: ids("warn"),
    unknown: ids("unknown"),
  };
}

/** The one rule: what makes health degraded, attention or ok. */
function statusOf(
  staleness: Staleness,
  selfCheck: SelfCheckView | undefined,
  attention: boolean,
): HealthReport["status"] {
  const failing = selfCheck?.failing ?? [];
  // The contract: health turns degraded when the timers stop or the setup breaks — here, when the
  // watchdog can no longer read or rotate the secret it is there to keep.
  if (staleness.status === "degraded" || failing.some((f) => f.severity === "critical")) return "degraded";
  return attention || failing.length > 0 ? "attention" : "ok";
}

async function assemble(
  deps: HealthPorts,
  { watchdog, sweep, staleness, selfCheck }: Runs,
): Promise<HealthReport> {
  const incidents = await deps.incidents();
  const open: HealthReport["openIncidents"] = [];
  let count = 0;
  let critical = false;
  for await (const incident of incidents.open()) {
    count++;
    critical ||= incident.severity === "critical";
    // Kept sorted and cut as it goes: the store lists in no particular order, and
    // the criticals must not be the ones cut (memory stays at MAX_LISTED).
    keepMostUrgent(open, {
      key: incident.key,
      kind: incident.kind,
      severity: incident.severity,
      summary: incident.summary,
      firstSeen: incident.firstSeen,
    });
  }
  const view = selfCheckView(selfCheck);
  return {
    status: statusOf(staleness, view, critical || watchdog?.attention === true),
    checkedAt: deps.clock.now().toISOString(),
    lastRuns: {
      // A first pass that stopped early leaves a record with no finish: that is no run yet.
      secretWatchdog: watchdog?.finishedAt
        ? { finishedAt: watchdog.finishedAt, attention: watchdog.attention }
        : null,
      grantSweep: sweep
        ? { finishedAt: sweep.finishedAt, grants: sweep.grants, invalid: sweep.invalid }
        : null,
    },
    nextExpiry: watchdog?.nextExpiry ?? null,
    connectorSecrets: watchdog?.connectorSecrets ?? [],
    evidence: watchdog?.migration?.evidence ?? null,
    openIncidents: open,
    openIncidentCount: count,
    staleness,
    ...(view !== undefined ? { selfCheck: view } : {}),
  };
}

type Listed = HealthReport["openIncidents"][number];

/** Most severe first, then the oldest. */
function byUrgency(a: Listed, b: Listed): number {
  const rank = rankOf(b.severity) - rankOf(a.severity);
  return rank !== 0 ? rank : a.firstSeen.localeCompare(b.firstSeen);
}

function rankOf(severity: string): number {
  return SEVERITY_RANK[severity as Severity] ?? -1;
}

/** Inserts `item` in order into `list`, which never grows past MAX_LISTED. */
function keepMostUrgent(list: Listed[], item: Listed): void {
  let at = list.length;
  while (at > 0 && byUrgency(item, list[at - 1]!) < 0) at--;
  if (at >= MAX_LISTED) return;
  list.splice(at, 0, item);
  if (list.length > MAX_LISTED) list.pop();
}
