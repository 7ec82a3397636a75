/**
 * What a CLI command may touch, injected so tests run commands in-process and
 * read exactly what a user would see.
 */
import type { Env } from "../config.js";
import { outputRedactor } from "../redaction.js";

export interface CliIo {
  /** stdout: results only (one JSON document with --json). */
  out(text: string): void;
  /** stderr: logs, progress, errors. */
  err(text: string): void;
  /** stdin, for values that must never be in argv (doctor --secret). */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderrIsTTY: boolean;
  env: Env;
}

/** Exit codes of the contract. */
export const EXIT = { ok: 0, attention: 1, usage: 2, service: 3 } as const;
export type ExitCode = 0 | 1 | 2 | 3;

export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stdin: process.stdin,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
  };
}

/**
 * The CLI's side of the redaction choke point: stdout and stderr pass the process's redactor, so
 * a service error that echoed a credential, or a value a command did not expect, is never printed.
 */
export function redactedIo(io: CliIo): CliIo {
  return {
    ...io,
    out: (text) => io.out(outputRedactor.redact(text)),
    err: (text) => io.err(outputRedactor.redact(text)),
  };
}
