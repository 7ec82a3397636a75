/**
 * The project's error types. Remote failures become one `HttpError` (shaped like
 * Azure SDK's RestError: service, status, request id) so callers branch on
 * fields, never on message text. Every message a user can see says what to do.
 */

/** Which remote a failure came from: picks the remediation text and the log field. */
export type Service = "entra" | "graph" | "nylas" | "webhook" | "slack" | "teams" | "pagerduty" | "state";

import { redact } from "./redaction.js";
import { truncateAtWord } from "./util/truncate-at-word.js";

const MAX_BODY_CHARS = 500;
/** The longest error message kept whole: a service's words are quoted, never embedded whole. */
const MAX_MESSAGE_CHARS = 2_000;

export interface HttpErrorOptions {
  service: Service;
  statusCode: number;
  /** Service error code: Graph `error.code`, Nylas `error.type`, Entra `error` (+ AADSTS number). */
  code?: string | undefined;
  requestId?: string | undefined;
  /** Response body, trimmed; never includes request bodies (they may hold secrets). */
  body?: string | undefined;
  /** Milliseconds the service asked us to wait (Retry-After), when it said. */
  retryAfterMs?: number | undefined;
  /**
   * True when the request may have reached the service and taken effect (timeout or
   * reset after sending, 5xx): callers that must know whether a write happened treat
   * it as "maybe".
   */
  ambiguous?: boolean | undefined;
  cause?: unknown;
}

/** A remote call failed: carries enough to branch on and to tell the user what to do. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly service: Service;
  /** HTTP status; 0 when no response arrived (network error, timeout). */
  readonly statusCode: number;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly body: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly ambiguous: boolean;

  constructor(message: string, options: HttpErrorOptions) {
    // Redacted here as well as at every output: an HttpError's text travels (logs, state, alerts).
    super(
      redact(excerpt(message, MAX_MESSAGE_CHARS)),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.service = options.service;
    this.statusCode = options.statusCode;
    this.code = options.code;
    this.requestId = options.requestId;
    this.body = options.body === undefined ? undefined : redact(trimBody(options.body));
    this.retryAfterMs = options.retryAfterMs;
    this.ambiguous = options.ambiguous ?? false;
  }
}

export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}

/** One configuration problem: the setting, what is wrong, and how to fix it. */
export interface ConfigProblem {
  setting: string;
  problem: string;
  fix: string;
}

/** Bad settings. Names every problem at once so one edit fixes them all (CLI exit 2). */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      `Configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p.setting}: ${p.problem} Fix: ${p.fix}`).join("\n"),
    );
    this.problems = problems;
  }
}

/** Why the watchdog's own identity got no token: picks the fix the message gives. */
export type CredentialProblem = "invalid-secret" | "expired-secret" | "unknown-app" | "no-credential";

/**
 * The watchdog's own identity (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, the managed identity, an
 * Azure CLI login) got no token: a setting to fix, not a service to wait for (CLI exit 2). Kept
 * apart from HttpError so it is never retried and never read as Graph being unreachable, and
 * apart from the connector's secret, which on-call would otherwise go and rotate.
 */
export class CredentialError extends Error {
  override name = "CredentialError";
  readonly problem: CredentialProblem;
  /** Entra's AADSTS number, when Entra refused the request. */
  readonly aadsts: string | undefined;
  /** What the SDK said (the credential chain's reasons): for the debug log, not the user's first read. */
  readonly detail: string;

  constructor(
    message: string,
    options: { problem: CredentialProblem; aadsts?: string | undefined; detail: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problem = options.problem;
    this.aadsts = options.aadsts;
    this.detail = options.detail;
  }
}

/** Bad command-line usage (CLI exit 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

export function trimBody(body: string): string {
  return body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS)}…` : body;
}

/**
 * A bounded, one-line excerpt of a service's text (an HTML error page can be 200 KB): whitespace
 * collapsed, cut at a word with "…" when longer than `max`.
 */
export function excerpt(text: string, max = 300): string {
  return truncateAtWord(text.replace(/\s+/g, " ").trim(), max);
}

/** `error.message` for anything thrown, for logs. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
