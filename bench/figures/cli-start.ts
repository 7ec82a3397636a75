/** `watchdog --help` as a whole process (the bundled CLI), beside `node -e ""`: what a user waits for before any work. */
import { CLI, SIZES, log, runProcess } from "../harness.js";
import { median, type Figure } from "../table.js";

export async function cliStart(): Promise<Figure[]> {
  log(`cli start: ${SIZES.starts} runs each of \`watchdog --help\` and \`node -e ""\` (median)`);
  const sides = { help: [CLI, "--help"], node: ["-e", ""] };
  const times: Record<keyof typeof sides, number[]> = { help: [], node: [] };
  // One unmeasured round first: the page cache, not the code, would otherwise decide the first run.
  for (let round = 0; round <= SIZES.starts; round++) {
    for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
      const run = await runProcess(sides[side], {}, { stdout: "count", probe: false });
      if (run.exitCode !== 0 || (side === "help" && run.stdoutBytes === 0)) {
        throw new Error(`${sides[side].join(" ")} exited ${run.exitCode}:\n${run.stderr}`);
      }
      if (round > 0) times[side].push(run.ms);
    }
  }
  return [
    {
      name: "watchdog --help: whole process",
      unit: "ms",
      measured: median(times.help),
      floor: median(times.node),
      goal: { kind: "max", value: 60 },
      note: `median of ${SIZES.starts}: \`node dist/cli/watchdog.js --help\` (the bundle), timed from spawn to exit, rounds alternating with the floor; floor = \`node -e ""\`, Node's own start-up`,
    },
  ];
}
