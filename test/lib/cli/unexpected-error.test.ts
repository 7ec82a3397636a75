// An error no rule foresaw must not look like "a secret needs attention" (exit 1), nor dump a
// stack trace on on-call unless asked.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { runCli, type Command } from "../../../lib/cli/main.js";

const boom: Command = {
  name: "boom",
  summary: "throws",
  usage: "boom",
  help: "throws",
  options: {},
  run: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'endDateTime')")),
};

async function run(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(
    ["boom", ...args],
    {
      out: (t) => void (stdout += t),
      err: (t) => void (stderr += t),
      stdin: Readable.from([]),
      stderrIsTTY: false,
      env: {},
    },
    [boom],
  );
  return { code, stdout, stderr };
}

describe("an unexpected error", () => {
  it("exits 3 with one line and the way to more detail, no stack trace", async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toContain("watchdog boom: unexpected error: Cannot read properties of undefined");
    expect(stderr).toContain("--verbose");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split("\n")).toHaveLength(2);
  });

  it("shows the stack trace under --verbose, still exit 3", async () => {
    const { code, stderr } = await run(["--verbose"]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/TypeError: Cannot read properties[\s\S]*\n\s+at /);
  });
});
