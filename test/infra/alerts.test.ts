// infra/app/alerts.bicep, read as text (no Bicep compiler installs here): the platform alerts
// that watch the watchdog must name the functions that really exist, and "stale" must mean
// two intervals of the schedules the deployment really sets.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import { bicepParams, loadInfraSources, MAIN_BICEP } from "./infra-sources.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const src = loadInfraSources(ROOT);
const alerts = src.bicep["infra/app/alerts.bicep"]!;
const main = src.bicep[MAIN_BICEP]!;

/** The interval between two firings of an NCRONTAB default, in hours. */
function intervalHours(schedule: string): number {
  const [first, second] = new Cron(schedule, { timezone: "UTC" }).nextRuns(
    2,
    new Date("2026-01-01T00:00:00Z"),
  );
  return (second!.getTime() - first!.getTime()) / 3_600_000;
}

/** PT12H → 12, PT90M → 1.5, P1D → 24. */
function isoHours(duration: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(duration);
  if (!match) throw new Error(`not an ISO 8601 duration: ${duration}`);
  return Number(match[1] ?? 0) * 24 + Number(match[2] ?? 0) + Number(match[3] ?? 0) / 60;
}

const mainParams = bicepParams(main);
const alertParams = bicepParams(alerts);

describe("infra/app/alerts.bicep", () => {
  it("alerts on failed executions of both timers, by the names the triggers register", () => {
    const registered = ["secret-watchdog.ts", "grant-sweep.ts"].map((file) => {
      const text = readFileSync(join(ROOT, "functions", file), "utf8");
      return /name:\s*"(\w+)"|app\.timer\("(\w+)"/.exec(text)?.slice(1).find(Boolean);
    });
    expect(registered).toEqual(["secretWatchdog", "grantSweep"]);
    expect(alerts).toContain(
      `requests | where name in ("${registered[0]}", "${registered[1]}") and success == false`,
    );
    expect(alerts).toContain(`requests | where name == "${registered[0]}" and success == true`);
    expect(alerts).toContain(`requests | where name == "${registered[1]}" and success == true`);
  });

  it("calls a timer stale after exactly two intervals of its default schedule", () => {
    const watchdogHours = intervalHours(mainParams.get("watchdogSchedule")!.defaultValue!);
    const sweepHours = intervalHours(mainParams.get("grantSweepSchedule")!.defaultValue!);
    expect(watchdogHours).toBe(6);
    expect(isoHours(mainParams.get("monitorWatchdogStaleAfter")!.defaultValue!)).toBe(2 * watchdogHours);
    expect(isoHours(mainParams.get("monitorSweepStaleAfter")!.defaultValue!)).toBe(2 * sweepHours);
    // The module's own defaults agree with what main.bicep passes.
    expect(alertParams.get("watchdogStaleAfter")!.defaultValue).toBe(
      mainParams.get("monitorWatchdogStaleAfter")!.defaultValue,
    );
    expect(alertParams.get("sweepStaleAfter")!.defaultValue).toBe(
      mainParams.get("monitorSweepStaleAfter")!.defaultValue,
    );
  });

  it("is wired into main.bicep with the configured receivers, settable from the azd environment", () => {
    expect(main).toContain("module alerts 'app/alerts.bicep'");
    for (const [param, env] of [
      ["monitorAlertEmail", "MONITOR_ALERT_EMAIL"],
      ["monitorAlertWebhookUrl", "MONITOR_ALERT_WEBHOOK_URL"],
      ["monitorWatchdogStaleAfter", "MONITOR_WATCHDOG_STALE_AFTER"],
      ["monitorSweepStaleAfter", "MONITOR_SWEEP_STALE_AFTER"],
    ] as const) {
      expect(mainParams.has(param), param).toBe(true);
      expect(src.parameters.parameters[param]?.value).toBe(`\${${env}}`);
    }
    expect(alerts).toMatch(/emailReceivers:[\s\S]*emailAddress: alertEmail/);
    expect(alerts).toMatch(/webhookReceivers:[\s\S]*serviceUri: alertWebhookUrl/);
  });

  it("keeps log-alert windows inside what Azure Monitor accepts (at most two days, frequency ≤ window)", () => {
    for (const match of alerts.matchAll(/frequency: '([^']+)'\s*\n\s*window: (\S+)/g)) {
      const window = match[2]!.startsWith("'")
        ? match[2]!.slice(1, -1)
        : alertParams.get(match[2]!)!.defaultValue!;
      expect(isoHours(match[1]!)).toBeLessThanOrEqual(isoHours(window));
      expect(isoHours(window)).toBeLessThanOrEqual(48);
    }
    expect([...alerts.matchAll(/frequency: '/g)]).toHaveLength(3);
  });
});
