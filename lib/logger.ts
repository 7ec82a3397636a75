/**
 * The narrow logging interface every `lib/` module takes. It matches the
 * InvocationContext's methods, so a trigger passes its context straight in, and
 * the CLI passes a stderr logger. Nothing in `lib/` calls `console.*`.
 */
import { oneLine, outputRedactor, type Redactor } from "./redaction.js";

export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/** Drops everything: for code paths whose caller asked for silence. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function render(message: string, args: unknown[]): string {
  if (args.length === 0) return message;
  const rest = args.map((a) => {
    if (a instanceof Error) return a.message;
    if (typeof a === "string") return a;
    try {
      return JSON.stringify(a);
    } catch {
      return String(a);
    }
  });
  return `${message} ${rest.join(" ")}`;
}

/**
 * Wraps a logger so every line passes through the redactor first (the process's own by default,
 * which knows every secret configured, obtained or issued), and stays one line: a caller-chosen
 * id with a CR/LF in it cannot forge a log entry.
 */
export function redactingLogger(inner: Logger, redactor: Redactor = outputRedactor): Logger {
  const wrap =
    (fn: (m: string) => void) =>
    (message: string, ...args: unknown[]) =>
      fn(oneLine(redactor.redact(render(message, args))));
  return {
    debug: wrap((m) => inner.debug(m)),
    info: wrap((m) => inner.info(m)),
    warn: wrap((m) => inner.warn(m)),
    error: wrap((m) => inner.error(m)),
  };
}

/** A logger that writes one line per call to a stream (the CLI's stderr). */
export function streamLogger(write: (line: string) => void, options: { verbose?: boolean } = {}): Logger {
  const line =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      write(`${level} ${render(message, args)}\n`);
  return {
    debug: options.verbose ? line("debug") : () => undefined,
    info: line("info "),
    warn: line("warn "),
    error: line("error"),
  };
}
