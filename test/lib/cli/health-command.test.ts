/**
 * `watchdog health [--json]`: the /api/health report for a terminal — each timer's last success
 * against its limit, open incidents; exit 0 ok · 1 degraded (and watchdog.stale raised) · 2 bad
 * configuration · 3 the state store unreachable.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";
import { runWatchdog } from "../../helpers/cli.js";
import { secretsIn, startWorld, type World } from "../../helpers/watchdog-world.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({ host: false, clock: "system" });
});
afterAll(async () => {
  await w?.close();
});

async function recordRuns(finishedAgoMs: number): Promise<void> {
  const store = await w.deps.store();
  const at = new Date(Date.now() - finishedAgoMs).toISOString();
  await store.put("runs", "secretWatchdog", { startedAt: at, finishedAt: at, attention: false });
  await store.put("runs", "grantSweep", { startedAt: at, finishedAt: at, grants: 3, invalid: 0 });
}

describe("watchdog health", () => {
  it("no pass yet on a fresh deployment → ok, exit 0", async () => {
    const r = await runWatchdog(["health"], w.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Health: OK /);
    expect(r.stdout).toMatch(/secretWatchdog +PENDING +no pass recorded \(limit 12 hours\)/);
  });

  it("fresh passes → ok: each timer's last success, its age and limit; open incidents", async () => {
    await recordRuns(10 * 60_000);
    const r = await runWatchdog(["health"], w.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Health: OK /);
    expect(r.stdout).toMatch(/secretWatchdog +ok +last success \S+, 10 minutes ago \(limit 12 hours\)/);
    expect(r.stdout).toMatch(/grantSweep +ok +last success \S+, 10 minutes ago \(limit 1 hour\)/);
    expect(r.stdout).toContain("Open incidents: 0");
    expect(secretsIn(r.stdout + r.stderr, w.secrets)).toEqual([]);
  });

  it("the last sweep four months old → --json degraded, exit 1, and watchdog.stale raised", async () => {
    await recordRuns(120 * DAY_MS);
    const r = await runWatchdog(["health", "--json"], w.env);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      schema: "secret-watchdog.health/v1",
      exitCode: 1,
      status: "degraded",
      staleness: {
        status: "degraded",
        timers: { grantSweep: { state: "stale", limitMs: HOUR_MS } },
      },
      openIncidents: [expect.objectContaining({ key: "watchdog.stale", severity: "critical" })],
    });
    expect((await w.incidents()).find((i) => i.key === "watchdog.stale")?.status).toBe("firing");

    const text = await runWatchdog(["health"], w.env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^Health: DEGRADED /);
    expect(text.stdout).toMatch(/Degraded because:\n {2}- secretWatchdog last finished a pass 120 days ago/);
    expect(text.stdout).toMatch(/critical +watchdog\.stale/);
  });

  it("passes fresh again → exit 0 and watchdog.stale resolved", async () => {
    await recordRuns(0);
    expect((await runWatchdog(["health"], w.env)).code).toBe(0);
    expect((await w.incidents()).find((i) => i.key === "watchdog.stale")?.status).toBe("resolved");
  });

  it("bad configuration → exit 2; the state store unreachable → exit 3", async () => {
    const bad = await runWatchdog(["health"], { ...w.env, GRANT_SWEEP_SCHEDULE: "every half hour" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("GRANT_SWEEP_SCHEDULE");

    const dir = mkdtempSync(join(tmpdir(), "health-cli-"));
    try {
      const notADir = join(dir, "state");
      writeFileSync(notADir, "");
      const down = await runWatchdog(["health"], { ...w.env, WATCHDOG_STATE_DIR: notADir });
      expect(down.code).toBe(3);
      expect(down.stdout).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
