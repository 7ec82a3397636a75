/**
 * What every figure of `npm run bench` shares: paths into dist/, the run's sizes (`--quick` shrinks
 * them), a scratch directory, and the child processes each measured side runs in.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { ChildReport } from "./report.js";
import { median } from "./table.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const WATCHDOG = join(ROOT, "dist/bin/watchdog.js");
/** The CLI as users run it: the esbuild bundle (scripts/bundle-cli.mjs). Whole-process figures run this. */
export const CLI = join(ROOT, "dist/cli/watchdog.js");
export const SCAN_FLOOR = join(ROOT, "dist/bench/scan-floor.js");
/** bench/scan-floor-sdk.ts, bundled by scripts/bundle-bench.mjs (`npm run bench` builds it). */
export const SCAN_FLOOR_SDK = join(ROOT, "dist/bench-sdk/scan-floor-sdk.js");
export const ALERT_FLOOR = join(ROOT, "dist/bench/alert-floor.js");
const RSS_PROBE = join(ROOT, "dist/bench/rss-probe.js");
export const FLOOR_CHILD = join(ROOT, "dist/bench/child.js");
export const IMPORT_CHILD = join(ROOT, "dist/bench/import-child.js");
const CLI_CHILD = join(ROOT, "dist/bench/cli-child.js");
export const argv = new Set(process.argv.slice(2));
export const QUICK = argv.has("--quick");
export const SIZES = QUICK
  ? {
      apps: [1_000, 5_000],
      grants: 5_000,
      runs: 1,
      serveSeconds: 2,
      imports: 3,
      starts: 5,
      propagationMs: 2_000,
      alertSeconds: 2,
    }
  : {
      apps: [10_000, 50_000],
      grants: 50_000,
      runs: 5,
      serveSeconds: 10,
      imports: 7,
      starts: 21,
      propagationMs: 10_000,
      alertSeconds: 10,
    };

export const scratch = mkdtempSync(join(tmpdir(), "watchdog-bench-"));
export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

// ---------------------------------------------------------------- children

export interface ChildRun {
  report: ChildReport;
  stdout: string;
  stderr: string;
}

/** Runs a floor child (it prints its report on stdout) to completion. */
export function runChild(args: string[], env: Record<string, string>): Promise<ChildRun> {
  return spawnChild(args, env, "pipe", (stdout) => stdout.trim().split("\n").at(-1) ?? "");
}

/**
 * Runs a real CLI command (`scan --json`, `sweep --json`) through bench/cli-child,
 * which writes its report to a file: stdout is the command's own.
 */
export function runCommand(
  command: string[],
  env: Record<string, string>,
  stdout: "pipe" | "ignore",
): Promise<ChildRun> {
  const reportFile = join(scratch, `report-${randomUUID()}.json`);
  return spawnChild([CLI_CHILD, reportFile, ...command], env, stdout, () => {
    const text = readFileSync(reportFile, "utf8");
    rmSync(reportFile, { force: true });
    return text;
  });
}

function spawnChild(
  args: string[],
  env: Record<string, string>,
  stdoutMode: "pipe" | "ignore",
  readReport: (stdout: string) => string,
): Promise<ChildRun> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    // "ignore" is /dev/null: what `watchdog scan --json > /dev/null` writes to.
    stdio: ["ignore", stdoutMode, "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      try {
        const report = JSON.parse(readReport(stdout)) as ChildReport;
        resolve({ report: { ...report, exitCode: code ?? -1 }, stdout, stderr });
      } catch {
        reject(new Error(`${args.join(" ")} exited ${code ?? "?"} without a report:\n${stderr}`));
      }
    });
  });
}

/** Starts a long-running child and resolves once `ready` finds its URL in its output. */
export async function startServerChild(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ url: string; output(): string; cpuMs(): number; stop(): Promise<void> }> {
  // BENCH_SERVER_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): profile the server child.
  const nodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS;
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...env,
      ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      const m = ready.exec(output);
      if (m?.[1] !== undefined) resolve(m[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code ?? "?"}:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    cpuMs: () => processCpuMs(child.pid),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/**
 * CPU time (user + system) a child has used so far, from /proc (Linux; NaN elsewhere): what the
 * server spent beside the bench's own process (simulator and load), which process.cpuUsage() gives.
 */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined || process.platform !== "linux") return NaN;
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks, counted after the ")" that ends the command name.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").at(-1)?.trim().split(" ") ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux Node supports. */
const CLOCK_TICKS_PER_S = 100;

// ---------------------------------------------------------------- whole processes

export interface ProcessRun {
  /** From spawn to exit, seen from this process: everything the user waits for. */
  ms: number;
  /** Peak RSS (rss-probe), when asked for. */
  maxRssKiB: number;
  exitCode: number;
  /** Bytes written to stdout ("count"; 0 when it went to /dev/null). */
  stdoutBytes: number;
  stderr: string;
}

/**
 * Runs a program as a user would (`node <file> <args>`) and times it from the
 * outside. `probe` preloads rss-probe for the peak RSS; stdout goes to
 * /dev/null ("ignore") or is counted and dropped ("count").
 */
export function runProcess(
  args: string[],
  env: Record<string, string>,
  options: { stdout: "ignore" | "count"; probe: boolean },
): Promise<ProcessRun> {
  const rssFile = join(scratch, `rss-${randomUUID()}`);
  const argv = options.probe ? ["--import", RSS_PROBE, ...args] : args;
  const started = performance.now();
  const child = spawn(process.execPath, argv, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...env,
      ...(options.probe ? { BENCH_RSS_FILE: rssFile } : {}),
    },
    stdio: ["ignore", options.stdout === "ignore" ? "ignore" : "pipe", "pipe"],
  });
  let stdoutBytes = 0;
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => (stdoutBytes += c.length));
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      const ms = performance.now() - started;
      let maxRssKiB = 0;
      if (options.probe) {
        try {
          maxRssKiB = Number(readFileSync(rssFile, "utf8"));
          rmSync(rssFile, { force: true });
        } catch {
          return reject(
            new Error(`${args.join(" ")} exited ${code ?? "?"} before its peak RSS was read:\n${stderr}`),
          );
        }
      }
      resolve({ ms, maxRssKiB, exitCode: code ?? -1, stdoutBytes, stderr });
    });
  });
}

export const mib = (kib: number) => kib / 1024;

export interface Sample {
  /** The work alone (module loading excluded). */
  workMs: number;
  /** The whole process. */
  ms: number;
  rssKiB: number;
}

export function pick(samples: readonly ChildReport[]): Sample {
  return {
    workMs: median(samples.map((s) => s.workMs)),
    ms: median(samples.map((s) => s.ms)),
    rssKiB: median(samples.map((s) => s.maxRssKiB)),
  };
}

export const thousands = (n: number) => `${Math.round(n / 1000)}k`;
