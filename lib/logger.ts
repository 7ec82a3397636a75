/**
 * The narrow logging interface every `lib/` module takes. It matches the
 * InvocationContext's methods, so a trigger passes its context straight in, and
 * the CLI passes a stderr logger. Nothing in `lib/` calls `console.*`.
 */
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

/**
 * Replaces every known secret value in text with `[REDACTED]`. A second line of
 * defence: code never passes a secret to a logger on purpose, and tests scan the
 * output; this catches the secret that hides inside a URL or an error body.
 */
export class Redactor {
  readonly #values = new Set<string>();

  /** Registers values that must never appear in output. Short values are ignored (they would redact noise). */
  add(...values: (string | undefined)[]): void {
    for (const value of values) if (value !== undefined && value.length >= 6) this.#values.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const value of this.#values) if (out.includes(value)) out = out.split(value).join("[REDACTED]");
    return out;
  }
}

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

/** Wraps a logger so every line passes through the redactor first. */
export function redactingLogger(inner: Logger, redactor: Redactor): Logger {
  const wrap =
    (fn: (m: string) => void) =>
    (message: string, ...args: unknown[]) =>
      fn(redactor.redact(render(message, args)));
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
