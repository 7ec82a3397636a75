/**
 * The one redaction choke point. Every string that leaves the process — a log
 * line, stdout/stderr, a state record, an alert body, an HTTP answer — passes
 * through `outputRedactor` on its way out (logger.ts, cli/main.ts,
 * state/create-store.ts, incidents/sinks/sink.ts, host/redact-answer.ts).
 *
 * It removes two kinds of thing:
 * - values it was told about: every secret setting (deps.ts), every token the
 *   process obtained (clients/credential.ts), every client secret Entra issued
 *   during the run (clients/graph.ts), the health key (cli/serve-command.ts);
 * - values of a credential's shape, which it was never told about: a service
 *   that echoes a request back may quote a header or a form field verbatim
 *   (`Authorization: Bearer …`, `x-functions-key`, `client_secret=…`, `?code=…`,
 *   a JWT), and a secret issued elsewhere is still a secret.
 *
 * Why one process-wide instance rather than one per Deps: a token is obtained
 * deep inside a client and a secret issued deep inside rotation, while output is
 * written far away (a trigger's answer, the CLI's stdout); one registry is the
 * only way every exit knows every value. It only ever grows, so it can only
 * redact more.
 */

export const REDACTED = "[REDACTED]";

/** Values shorter than this are not registered: they would redact ordinary words. */
const MIN_SECRET_LENGTH = 6;

/**
 * Credential shapes. Each keeps its label and replaces only the value, so a
 * reader still sees what was there. Values stop at a quote, whitespace, `&`,
 * `,`, `;`, `<` or `}` so JSON and HTML stay well formed.
 *
 * `needs` is a character every match contains: text without it cannot match, and `includes` says so
 * some 30 times faster than the pattern's own pass (a 10k-app scan's 5.5 MB of JSON: 0.2 against
 * 5.9 ms for the query parameters, which need "="; 2026-12-02). Only where such a character is rare
 * in output: every other shape needs a letter or a ":" that JSON is full of.
 */
const SHAPES: readonly { shape: RegExp; to: string; needs?: string }[] = [
  // Authorization header values (Bearer/Basic), wherever they are quoted.
  { shape: /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{16,}/gi, to: "$1$2[REDACTED]" },
  // A JWT (what Entra issues as an access token), even without its header.
  { shape: /\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g, to: "[REDACTED]" },
  // Named fields and headers, JSON (`"x-functions-key":"…"`) or header/form style (`x-api-key: …`).
  // It starts at the name, not at an optional quote before it: the quote stays as it was either way,
  // and a pattern that starts at one of a few letters lets V8 skip ahead (40 % faster on scan output).
  {
    shape:
      /(\b(?:authorization|x-functions-key|x-api-key|api[_-]?key|client[_-]?secret|secret[_-]?text|access[_-]?token|refresh[_-]?token|id[_-]?token|client[_-]?assertion|password)\b["']?\s*[:=]\s*["']?)(?!\[REDACTED\]|Bearer\b|Basic\b)[^"'\s&,;<}]{6,}/gi,
    to: "$1[REDACTED]",
  },
  // Query parameters that carry a credential: the Functions key (`code`), SAS signatures.
  // (The lookahead names each name's first letter, which lets V8 skip a `?` or `&` quickly.)
  {
    shape: /([?&](?=[acks])(?:code|sig|api_key|apikey|access_token|key)=)(?!\[REDACTED\])[^&\s"'<#]+/gi,
    to: "$1[REDACTED]",
    needs: "=",
  },
];

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class Redactor {
  readonly #values = new Set<string>();
  #pattern: RegExp | undefined;

  /** Registers values that must never appear in output. Undefined and short values are ignored. */
  add(...values: (string | null | undefined)[]): void {
    for (const value of values) {
      if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH || this.#values.has(value)) continue;
      this.#values.add(value);
      this.#pattern = undefined;
    }
  }

  /** How many values it knows (tests; never the values themselves). */
  get size(): number {
    return this.#values.size;
  }

  /** The text with every known value and every credential shape replaced by `[REDACTED]`. */
  redact(text: string): string {
    let out = text;
    const known = this.#known();
    if (known !== undefined) out = out.replace(known, REDACTED);
    for (const { shape, to, needs } of SHAPES) {
      if (needs === undefined || out.includes(needs)) out = out.replace(shape, to);
    }
    return out;
  }

  /** A JSON-able value with every string in it redacted (keys kept): for state records and answers. */
  redactValue<T>(value: T): T {
    return this.#walk(value, 0) as T;
  }

  #walk(value: unknown, depth: number): unknown {
    if (typeof value === "string") return this.redact(value);
    if (value === null || typeof value !== "object" || depth > 64) return value;
    if (Array.isArray(value)) return value.map((item) => this.#walk(item, depth + 1));
    if (Object.getPrototypeOf(value) !== Object.prototype) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = this.#walk(item, depth + 1);
    return out;
  }

  /** One alternation of every known value, longest first (so a value containing another goes whole). */
  #known(): RegExp | undefined {
    if (this.#values.size === 0) return undefined;
    this.#pattern ??= new RegExp(
      [...this.#values]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join("|"),
      "g",
    );
    return this.#pattern;
  }
}

/** The process's redactor: every output path uses this one (see the file comment). */
export const outputRedactor = new Redactor();

/** Registers values with the process's redactor: secrets configured, obtained or issued at run time. */
export function rememberSecret(...values: (string | null | undefined)[]): void {
  outputRedactor.add(...values);
}

/** Shorthand for `outputRedactor.redact`. */
export function redact(text: string): string {
  return outputRedactor.redact(text);
}

/**
 * One line for a log: CR and LF become a visible `\n`, so a value chosen by a
 * caller (a grant id, a notification id) cannot forge a second log line.
 */
export function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\\n");
}
