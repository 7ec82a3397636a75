/**
 * `scan` and `run` share one definition of "something depends on it" (issue 12): after the first
 * rotation, the secret that was in the connector before stays on the app (the watchdog never removes
 * a secret it did not create) and one day expires. Nothing uses it — the records show the connector
 * holds the watchdog's key — so scan lists it as "expired (unused)" and exits 0, as run does. Without
 * that evidence (no records) scan stays conservative: expired, exit 1.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";
import { runWatchdog } from "../../helpers/cli.js";

const DAY_MS = 86_400_000;

let sim: Simulator;
let stateDir: string;
let emptyStateDir: string;
let foreignKeyId: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: { connectorSecretDaysLeft: 100 } });
  stateDir = mkdtempSync(join(tmpdir(), "scan-unused-"));
  emptyStateDir = mkdtempSync(join(tmpdir(), "scan-unused-empty-"));
  const app = sim.tenant.appByAppId(sim.nylasApp!.appId)!;
  foreignKeyId = app.passwordCredentials[0]!.keyId;
  const rotated = await runWatchdog(["run", "--force-rotate"], sim.env({ WATCHDOG_STATE_DIR: stateDir }));
  expect(rotated.code).toBe(0);
  // The secret in use before the first rotation, still on the app, has since expired.
  app.passwordCredentials.find((p) => p.keyId === foreignKeyId)!.endDateTime = new Date(
    Date.now() - DAY_MS,
  ).toISOString();
});
afterAll(async () => {
  await sim.close();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(emptyStateDir, { recursive: true, force: true });
});

interface ScanDoc {
  credentials: { keyId: string; status: string; use?: string }[];
  summary: { expired: number; expiredUnused: number };
  problems: { code: string }[];
  exitCode: number;
}

describe("an expired secret nothing uses", () => {
  it("scan --json: expired, marked unused, exit 0 — and run agrees (exit 0)", async () => {
    const scan = await runWatchdog(["scan", "--json"], sim.env({ WATCHDOG_STATE_DIR: stateDir }));
    const doc = JSON.parse(scan.stdout) as ScanDoc;
    expect(scan.code).toBe(0);
    expect(doc.exitCode).toBe(0);
    expect(doc.credentials.find((c) => c.keyId === foreignKeyId)).toMatchObject({
      status: "expired",
      use: "unused",
    });
    expect(doc.summary).toMatchObject({ expired: 1, expiredUnused: 1 });
    expect(doc.problems).toEqual([]);

    const run = await runWatchdog(["run", "--dry-run"], sim.env({ WATCHDOG_STATE_DIR: stateDir }));
    expect(run.code).toBe(0);
  });

  it("scan's table says 'expired (unused)' and that it is not a failure", async () => {
    const scan = await runWatchdog(["scan"], sim.env({ WATCHDOG_STATE_DIR: stateDir }));
    expect(scan.code).toBe(0);
    const row = scan.stdout.split("\n").find((l) => l.includes(foreignKeyId.slice(0, 8)));
    expect(row).toMatch(/expired \(unused\)/);
    expect(scan.stdout).toMatch(/1 expired \(1 unused: nothing depends on it, not a failure\)/);
  });

  it("without records of what the connector holds, scan stays conservative: expired, exit 1", async () => {
    const scan = await runWatchdog(["scan", "--json"], sim.env({ WATCHDOG_STATE_DIR: emptyStateDir }));
    const doc = JSON.parse(scan.stdout) as ScanDoc;
    expect(scan.code).toBe(1);
    expect(doc.credentials.find((c) => c.keyId === foreignKeyId)).toMatchObject({ status: "expired" });
    expect(doc.credentials.find((c) => c.keyId === foreignKeyId)!.use).toBeUndefined();
    expect(doc.summary).toMatchObject({ expired: 1, expiredUnused: 0 });
    expect(doc.problems.map((p) => p.code)).toEqual(["secret.attention"]);
  });
});
