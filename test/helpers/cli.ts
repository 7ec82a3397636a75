/**
 * Runs `watchdog <argv>` in-process with an injected CliIo, capturing stdout
 * and stderr exactly as a user would see them.
 */
import { Readable } from "node:stream";
import { runCli } from "../../lib/cli/main.js";
import { COMMANDS } from "../../lib/cli/commands.js";
import type { Env } from "../../lib/config.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runWatchdog(argv: string[], env: Env): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(
    argv,
    {
      out: (text) => void (stdout += text),
      err: (text) => void (stderr += text),
      stdin: Readable.from([]),
      stderrIsTTY: false,
      env,
    },
    COMMANDS,
  );
  return { code, stdout, stderr };
}
