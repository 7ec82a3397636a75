/**
 * lib/cli/young-generation.ts in real processes (the built module, dist/lib,
 * which `npm test` builds first): V8's heap is per process, and the cap is a
 * V8 flag set from inside one. A child allocates with a live set that keeps
 * moving, as a scan's pages do, and reports the largest young generation it
 * saw; without the cap V8 grows it to its 32 MiB default in that time.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { YOUNG_GENERATION_CAP_BYTES, youngGenerationChosen } from "../../../lib/cli/young-generation.js";
import { runProcess } from "../../helpers/run-process.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MIB = 1024 * 1024;

const CHILD = `
const [root, mode] = process.argv.slice(1);
const { capYoungGeneration } = await import(root + "/dist/lib/cli/young-generation.js");
const { getHeapSpaceStatistics } = await import("node:v8");
// A poll every 5 ms, where the CLI polls every 25: this loop allocates faster than a scan.
if (mode === "cap") await capYoungGeneration({ everyMs: 5 });
const young = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
const ring = new Array(40000);
let at = 0;
let max = young();
for (let round = 0; round < 600; round++) {
  for (let i = 0; i < 4000; i++) ring[at++ % ring.length] = { round, i, text: "app " + round + "/" + i };
  max = Math.max(max, young());
  await new Promise((resolve) => setImmediate(resolve));
}
console.log(JSON.stringify({ max }));
`;

async function largestYoungGeneration(
  mode: "cap" | "none",
  nodeFlags: string[] = [],
  env: Record<string, string> = {},
) {
  const run = await runProcess(
    process.execPath,
    [...nodeFlags, "--input-type=module", "-e", CHILD, ROOT, mode],
    {
      env,
    },
  );
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as { max: number }).max;
}

describe("capYoungGeneration", () => {
  it("keeps V8's young generation at two semi-spaces of 8 MiB, where it would grow to 32 MiB", async () => {
    expect(YOUNG_GENERATION_CAP_BYTES).toBe(16 * MIB);
    expect(await largestYoungGeneration("none")).toBe(32 * MIB);
    expect(await largestYoungGeneration("cap")).toBe(YOUNG_GENERATION_CAP_BYTES);
  });

  it("leaves a young generation chosen at start alone, on the command line or in NODE_OPTIONS", async () => {
    expect(await largestYoungGeneration("cap", ["--max-semi-space-size=16"])).toBe(32 * MIB);
    expect(await largestYoungGeneration("cap", [], { NODE_OPTIONS: "--max-semi-space-size=16" })).toBe(
      32 * MIB,
    );
  });
});

describe("youngGenerationChosen", () => {
  it("finds either setting, in either spelling, in execArgv or NODE_OPTIONS", () => {
    expect(youngGenerationChosen([], undefined)).toBe(false);
    expect(youngGenerationChosen(["--enable-source-maps"], "--max-old-space-size=512")).toBe(false);
    expect(youngGenerationChosen(["--max-semi-space-size=4"], undefined)).toBe(true);
    expect(youngGenerationChosen(["--max_semi_space_size=4"], undefined)).toBe(true);
    expect(youngGenerationChosen([], "--inspect --semi-space-growth-factor=1")).toBe(true);
    expect(youngGenerationChosen([], "--max-semi-space-size 16")).toBe(true);
  });
});
