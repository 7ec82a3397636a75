/**
 * What every bench child reports: its peak RSS, its whole lifetime, and the
 * time of the measured work alone (module loading excluded).
 */
import { performance } from "node:perf_hooks";

export interface ChildReport {
  /** getrusage's ru_maxrss, in KiB, read when the work is done. */
  maxRssKiB: number;
  /** From process start to the end of the work: start-up and module loading included. */
  ms: number;
  /** The work alone: from its first line to its last. */
  workMs: number;
  exitCode: number;
  /** Items read (apps, grants), when the child counts them. */
  count?: number;
}

/** Times `work` and returns the report (module loading before it is not counted in `workMs`). */
export async function measure(
  work: () => Promise<{ exitCode: number; count?: number }>,
): Promise<ChildReport> {
  const started = performance.now();
  const { exitCode, count } = await work();
  const ended = performance.now();
  return {
    maxRssKiB: process.resourceUsage().maxRSS,
    ms: ended,
    workMs: ended - started,
    exitCode,
    ...(count !== undefined ? { count } : {}),
  };
}
