/**
 * `GET /api/health`: what on-call wants at a glance — when each pass last ran
 * and how it went, the next expiry, the open incidents. No secret, ever: run
 * records and incidents never hold one.
 */
import type { Deps } from "./deps.js";
import type { WatchdogPassResult } from "./watchdog-pass.js";
import type { SweepResult } from "./grants/sweep.js";
import { SEVERITY_RANK, type Severity } from "./incidents/incident.js";

export interface HealthReport {
  status: "ok" | "attention";
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
}

/** At most this many incidents are listed (the count is always exact). */
const MAX_LISTED = 50;

export async function readHealth(deps: Pick<Deps, "store" | "incidents" | "clock">): Promise<HealthReport> {
  const [state, incidents] = await Promise.all([deps.store(), deps.incidents()]);
  const [watchdog, sweep] = await Promise.all([
    state.get<WatchdogPassResult>("runs", "secretWatchdog"),
    state.get<SweepResult>("runs", "grantSweep"),
  ]);
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
  return {
    status: critical || watchdog?.value.attention === true ? "attention" : "ok",
    checkedAt: deps.clock.now().toISOString(),
    lastRuns: {
      secretWatchdog: watchdog
        ? { finishedAt: watchdog.value.finishedAt, attention: watchdog.value.attention }
        : null,
      grantSweep: sweep
        ? { finishedAt: sweep.value.finishedAt, grants: sweep.value.grants, invalid: sweep.value.invalid }
        : null,
    },
    nextExpiry: watchdog?.value.nextExpiry ?? null,
    connectorSecrets: watchdog?.value.connectorSecrets ?? [],
    evidence: watchdog?.value.migration?.evidence ?? null,
    openIncidents: open,
    openIncidentCount: count,
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
