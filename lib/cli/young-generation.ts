/**
 * A young generation of at most 8 MiB a semi-space for every CLI command but
 * a long-running one (bin/watchdog.ts), set from inside the running process.
 *
 * Why: V8 doubles the young generation whenever the bytes that survived its
 * scavenges since the last doubling exceed its size, a sum that never decays,
 * up to 16 MiB a semi-space (two of them: 32 MiB). A scan keeps about half a
 * page of applications alive at any moment (0.5–0.6 MB survive each scavenge,
 * `--trace-gc-nvp`, 2026-12-02), so the longer it runs the larger the young
 * generation gets: a 10k-app scan ends at 8 MiB a semi-space, a 50k-app one
 * reaches 16 after about 0.9 s, and its peak RSS was 1.17–1.27× the smaller
 * scan's though nothing is held per app. Capped at 8 MiB (Node's
 * `--max-semi-space-size=8`), a 50k-app scan peaked at 101–106 MiB instead of
 * 118–123 and took as long (5 runs each, 2026-12-02); a cap of 4 or 2 MiB made
 * it worse, the page then outliving the young generation into the old one.
 *
 * How: `--max-semi-space-size` is read only when V8 creates its heap, so a
 * process cannot lower it for itself; V8 reads its growth factor each time it
 * grows the young generation, though. A timer watches the young generation's
 * size and sets that factor to 1 (grow to 1× the present size: stay) once it
 * holds two semi-spaces of 8 MiB. Growth needs megabytes to survive first, so
 * a poll every 25 ms is in time (the 8 → 16 step took 450 ms of a 50k scan).
 * A flag changed this way changes V8's flag hash, so a module compiled after
 * it would be cached under another hash than the next run's (Node's compile
 * cache, bin/watchdog.ts): by then a command has loaded what it runs.
 *
 * Someone who sets the young generation themselves (`--max-semi-space-size`
 * or `--semi-space-growth-factor`, on the command line or in NODE_OPTIONS)
 * keeps their setting: nothing here runs. node:v8 is imported only when it
 * does, so help and usage errors load nothing for it (as v8-tiering.ts).
 */
/** Two semi-spaces of 8 MiB: V8's `new_space` size at the cap. */
export const YOUNG_GENERATION_CAP_BYTES = 2 * 8 * 1024 * 1024;

const CHOSEN_BY_USER = /--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)\b/;

/** Whether the process was started with its own young-generation setting. */
export function youngGenerationChosen(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((arg) => CHOSEN_BY_USER.test(arg)) || CHOSEN_BY_USER.test(nodeOptions ?? "");
}

/**
 * Starts watching; the timer never keeps the process alive and stops once the cap is set (or when
 * this V8 reports no `new_space`). Returns a function that stops it early.
 */
export async function capYoungGeneration(
  { everyMs = 25, capBytes = YOUNG_GENERATION_CAP_BYTES } = {},
  started: { execArgv: readonly string[]; nodeOptions: string | undefined } = {
    execArgv: process.execArgv,
    nodeOptions: process.env.NODE_OPTIONS,
  },
): Promise<() => void> {
  if (youngGenerationChosen(started.execArgv, started.nodeOptions)) return () => undefined;
  const { getHeapSpaceStatistics, setFlagsFromString } = await import("node:v8");
  const timer = setInterval(() => {
    const size = getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size;
    if (size !== undefined && size < capBytes) return;
    if (size !== undefined) setFlagsFromString("--semi-space-growth-factor=1");
    clearInterval(timer);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
