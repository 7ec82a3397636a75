/**
 * What a command that stopped on an error means, decided once: its exit code, the problem as
 * automation reads it (the `problems` entry of a `--json` document) and the lines people read on
 * stderr. main.ts prints them; the streaming commands (scan, grants) close their own document
 * with the same problem, so the two can never disagree.
 */
import { ConfigError, CredentialError, HttpError, UsageError, errorMessage } from "../errors.js";
import { InconsistentReadError } from "../clients/nylas-types.js";
import { EXIT, type ExitCode } from "./io.js";

/** One entry of a `--json` document's `problems`: what is wrong and what to do. */
export interface Problem {
  code: string;
  message: string;
  fix: string;
}

export interface Failure {
  exitCode: ExitCode;
  problems: Problem[];
}

const VERBOSE_FIX =
  "Run again with --verbose for the stack trace, and report it with that output if it persists.";

/** The exit code and problems an error thrown out of a command stands for. */
export function failureOf(command: string, error: unknown): Failure {
  if (error instanceof ConfigError) {
    return {
      exitCode: EXIT.usage,
      problems: error.problems.map((p) => ({
        code: "config.invalid",
        message: `${p.setting}: ${p.problem}`,
        fix: p.fix,
      })),
    };
  }
  if (error instanceof CredentialError) {
    // The message carries its own "Fix: …" (credential-error.ts); split so `fix` is the fix alone.
    const at = error.message.indexOf(" Fix: ");
    const [message, fix] =
      at < 0
        ? [error.message, "Fix AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, the watchdog's own credential."]
        : [error.message.slice(0, at), error.message.slice(at + " Fix: ".length)];
    return { exitCode: EXIT.usage, problems: [{ code: `credential.${error.problem}`, message, fix }] };
  }
  if (error instanceof UsageError) {
    return {
      exitCode: EXIT.usage,
      problems: [{ code: "usage", message: error.message, fix: `Run 'watchdog ${command} --help'.` }],
    };
  }
  if (error instanceof HttpError) {
    return {
      exitCode: EXIT.service,
      problems: [
        {
          code: `service.${error.service}`,
          message: `${error.message}${error.requestId ? ` (request id ${error.requestId})` : ""}`,
          fix:
            error.statusCode === 0
              ? `${error.service} could not be reached: check the network path, then run again.`
              : `${error.service} refused or failed (${error.statusCode}): run again later; if it persists, 'watchdog doctor' checks the settings.`,
        },
      ],
    };
  }
  if (error instanceof InconsistentReadError) {
    // Not a bug and not an outage: Nylas's list moved under every attempt to read it whole.
    return {
      exitCode: EXIT.service,
      problems: [
        {
          code: "service.nylas",
          message: error.message,
          fix: "Nylas's grant list kept changing while it was read (users signing in meanwhile); nothing was decided on the partial read. Run again; the next pass does too.",
        },
      ],
    };
  }
  return {
    exitCode: EXIT.service,
    problems: [{ code: "unexpected", message: `unexpected error: ${errorMessage(error)}`, fix: VERBOSE_FIX }],
  };
}

/**
 * The stderr lines for people. A failure no rule foresaw (a bug, a corrupt file, a library's own
 * error) gets the stack only under --verbose, and exit 3, never 1, which means "a secret needs
 * attention" and would send on-call looking at Entra for a fault in the watchdog itself.
 */
export function failureText(command: string, error: unknown, verbose: boolean): string {
  if (error instanceof ConfigError) return `watchdog ${command}: ${error.message}\nNothing was done.\n`;
  if (error instanceof UsageError || error instanceof CredentialError)
    return `watchdog ${command}: ${error.message}\n`;
  if (error instanceof HttpError)
    return `watchdog ${command}: ${error.message}${error.requestId ? ` (request id ${error.requestId})` : ""}\n`;
  if (error instanceof InconsistentReadError)
    return `watchdog ${command}: ${error.message} ${failureOf(command, error).problems[0]!.fix}\n`;
  const stack = error instanceof Error && error.stack !== undefined ? `${error.stack}\n` : "";
  return `watchdog ${command}: unexpected error: ${errorMessage(error)}\n${verbose ? stack : `${VERBOSE_FIX}\n`}`;
}

/** Every `--json` document's schema: `secret-watchdog.<command>/v1`, versioned so automation can tell a change. */
export function schemaOf(command: string): string {
  return `secret-watchdog.${command}/v1`;
}

/**
 * The one document a `--json` command prints when it stops on an error: whatever it had finished
 * (`partial`), the problems, and the exit code the process ends with.
 */
export function failureDocument(
  schema: string,
  failure: Failure,
  partial: Record<string, unknown> = {},
): string {
  return `${JSON.stringify({ schema, ...partial, problems: failure.problems, exitCode: failure.exitCode })}\n`;
}
