/**
 * `GET /api/health`: what on-call wants at a glance — when each pass last ran
 * and how it went, the next expiry, the open incidents. No secret, ever: run
 * records and incidents never hold one.
 */
import type { Deps } from "./deps.js";
import type { WatchdogPassResult } from "./watchdog-pass.js";
import type { SweepResult } from "./grants/sweep.js";

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

export async function readHealth(deps: Pick<Deps, "state" | "alerts" | "clock">): Promise<HealthReport> {
  const [state, incidents] = await Promise.all([deps.state(), deps.alerts()]);
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
    if (open.length < MAX_LISTED) {
      open.push({
        key: incident.key,
        kind: incident.kind,
        severity: incident.severity,
        summary: incident.summary,
        firstSeen: incident.firstSeen,
      });
    }
  }
  open.sort((a, b) =>
    a.severity === b.severity ? a.firstSeen.localeCompare(b.firstSeen) : a.severity === "critical" ? -1 : 1,
  );
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
