/**
 * Runs a child process to its end and hands back its exit code and all it
 * wrote. The environment is exactly `env` (plus PATH and HOME unless given):
 * nothing leaks in from the test runner, as nothing would in Azure or a
 * user's shell.
 */
import { spawn } from "node:child_process";

export interface ProcessResult {
  /** The exit code; -1 when the process was killed by a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    // "close", not "exit": both pipes are drained by then.
    child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
