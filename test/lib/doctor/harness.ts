/**
 * A doctor test world: the simulator (real SDKs over HTTPS) arranged as a
 * healthy deployment — webhook subscribed, an alert sink, the watchdog allowed
 * to read consent grants — so each test breaks exactly one thing. Doctor runs
 * in-process through `runDoctor` or the real CLI entry (`runCli`).
 */
import { readTree } from "../../helpers/read-tree.js";
import { saveKeyRecord, type KeyRecord } from "../../../lib/rotation/records.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { startSimulator, type SeedOptions, type Simulator } from "../../../lib/sim/index.js";
import { ManualClock } from "../../../lib/clock.js";
import { loadConfig } from "../../../lib/config.js";
import { createDeps, type Deps } from "../../../lib/deps.js";
import type { Logger } from "../../../lib/logger.js";
import { runDoctor, type DoctorReport } from "../../../lib/doctor/run-doctor.js";
import type { CheckId, CheckResult } from "../../../lib/doctor/check.js";
import type { NylasRegionUrls } from "../../../lib/doctor/nylas-regions.js";
import { createDoctorCommand } from "../../../lib/cli/doctor-command.js";
import { runCli } from "../../../lib/cli/main.js";
import type { CliIo } from "../../../lib/cli/io.js";

export const WEBHOOK_URL = "https://watchdog.example.com/api/nylas/webhook";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export interface DoctorWorld {
  sim: Simulator;
  clock: ManualClock;
  env: Record<string, string>;
  regions: NylasRegionUrls;
  logs: string[];
  stateDir: string;
  deps(extraEnv?: Record<string, string>): Deps;
  doctor(extraEnv?: Record<string, string>, options?: { probeRegions?: boolean }): Promise<DoctorReport>;
  /** `watchdog doctor …` through the real CLI entry; stdin is piped text (not a TTY). */
  cli(args: string[], options?: { stdin?: string; env?: Record<string, string> }): Promise<CliRun>;
  /** What the rotation feature records once it has put a secret into the connector. */
  recordConnectorSecret(keyId: string, appId?: string): Promise<void>;
  /** Every file under the state directory, concatenated. */
  stateText(): string;
  close(): Promise<void>;
}

export async function startDoctorWorld(
  options: { seed?: SeedOptions; env?: Record<string, string> } = {},
): Promise<DoctorWorld> {
  const clock = new ManualClock(new Date("2026-11-23T12:00:00Z"));
  const sim = await startSimulator({ clock, ...(options.seed ? { seed: options.seed } : {}) });
  // Least privilege for rotation is OwnedBy + owner; reading consent grants needs Directory.Read.All.
  sim.tenant.grantAppRole(sim.watchdog.servicePrincipalId, "Directory.Read.All");
  const webhook = sim.tenant.nylas.addWebhook({ webhook_url: WEBHOOK_URL });
  // Nylas has refreshed the seeded grants (with the connector's secret): Entra's sign-in report shows use.
  await sim.nylas.tick();
  const stateDir = mkdtempSync(join(tmpdir(), "doctor-world-"));
  const logs: string[] = [];
  const logger: Logger = {
    debug: (m) => logs.push(`debug ${m}`),
    info: (m) => logs.push(`info ${m}`),
    warn: (m) => logs.push(`warn ${m}`),
    error: (m) => logs.push(`error ${m}`),
  };
  const env = sim.env({
    WATCHDOG_STATE_DIR: stateDir,
    WEBHOOK_PUBLIC_URL: WEBHOOK_URL,
    NYLAS_WEBHOOK_SECRET: webhook.webhook_secret,
    SLACK_WEBHOOK_URL: `${sim.urls.sinks}/slack/T000/B000/slacktoken123456`,
    ...options.env,
  });
  const regions = { us: sim.urls.nylasApiUri, eu: sim.urls.nylasEuApiUri };
  const deps = (extraEnv: Record<string, string> = {}) =>
    createDeps(loadConfig({ ...env, ...extraEnv }), logger, { clock });
  const command = createDoctorCommand({ nylasRegions: regions, depsOverrides: { clock } });
  return {
    sim,
    clock,
    env,
    regions,
    logs,
    stateDir,
    deps,
    doctor: (extraEnv = {}, options = {}) => runDoctor(deps(extraEnv), { nylasRegions: regions, ...options }),
    async cli(args, cliOptions = {}) {
      let out = "";
      let err = "";
      const io: CliIo = {
        out: (t) => void (out += t),
        err: (t) => void (err += t),
        stdin: Readable.from(cliOptions.stdin === undefined ? [] : [Buffer.from(cliOptions.stdin)]),
        stderrIsTTY: false,
        env: { ...env, ...cliOptions.env },
      };
      const code = await runCli(["doctor", ...args], io, [command]);
      return { code, out, err };
    },
    async recordConnectorSecret(keyId, appId = sim.nylasApp!.appId) {
      const store = await deps().store();
      // As the rotation records an installed key (lib/rotation/records.ts).
      const record: KeyRecord = {
        v: 1,
        keyId,
        appId,
        appObjectId: "",
        rotationId: "r-test",
        createdAt: clock.now().toISOString(),
        endDateTime: null,
        state: "installed",
        windowStart: clock.now().toISOString(),
        installedAt: clock.now().toISOString(),
      };
      await saveKeyRecord(store, record);
    },
    stateText() {
      return [...readTree(stateDir).values()].join("\n");
    },
    async close() {
      await sim.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export function check(report: DoctorReport, id: CheckId): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in the report`);
  return found;
}
