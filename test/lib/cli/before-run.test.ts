// bin/watchdog.ts sets V8's tiering in runCli's `beforeRun`: it must come before a command runs,
// and never for help or a usage error, which would pay for it and run nothing.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { runCli, type Command } from "../../../lib/cli/main.js";

async function run(argv: string[]) {
  const events: string[] = [];
  const probe: Command = {
    name: "probe",
    summary: "records that it ran",
    usage: "probe [--json]",
    help: "records that it ran",
    options: { json: { type: "boolean" } },
    run: () => {
      events.push("run");
      return Promise.resolve(0);
    },
  };
  const code = await runCli(
    argv,
    { out: () => undefined, err: () => undefined, stdin: Readable.from([]), stderrIsTTY: false, env: {} },
    [probe],
    undefined,
    (command) => {
      events.push(`before ${command.name}`);
      return Promise.resolve();
    },
  );
  return { code, events };
}

describe("runCli's beforeRun", () => {
  it("is called once with the command, before it runs", async () => {
    expect(await run(["probe", "--json"])).toEqual({ code: 0, events: ["before probe", "run"] });
  });

  it("is not called for help, a command's --help, an unknown command or a usage error", async () => {
    for (const argv of [["--help"], ["help", "probe"], ["probe", "--help"], ["nope"], ["probe", "--bogus"]]) {
      expect((await run(argv)).events, argv.join(" ")).toEqual([]);
    }
  });
});
