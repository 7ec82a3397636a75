/**
 * What one doctor check reports. Every non-pass result carries the concrete
 * fix and where that fix comes from (a public Nylas support thread or
 * Microsoft/Nylas documentation, by title and URL: `sources.ts`), so the
 * reader can check the advice.
 */

export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** Stable ids, in the order doctor runs and prints them (`--json` consumers key on these). */
export const CHECK_IDS = [
  "nylas.region",
  "connector.present",
  "app.found",
  "connector.audience",
  "app.permission",
  "app.redirect-uri",
  "secrets.live",
  "rotation.safety",
  "scopes.required",
  "consent.admin",
  "grants.scopes",
  "webhook.subscription",
  "app.v2-leftovers",
  "settings.sanity",
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** What to do, step by step when there are steps. Absent on pass. */
  fix?: string;
  /** The public pages the diagnosis and fix come from. */
  source?: string;
  details?: Record<string, unknown>;
}

/** What a check function returns; the runner adds id and title. */
export type CheckOutcome = Omit<CheckResult, "id" | "title">;

/**
 * Thrown inside a check when it cannot run because something it needs is
 * missing or failed earlier; the runner reports it as `skip` with this reason.
 */
export class SkipCheck extends Error {
  override name = "SkipCheck";
}

export const pass = (summary: string, details?: Record<string, unknown>): CheckOutcome => ({
  status: "pass",
  summary,
  ...(details ? { details } : {}),
});

export function problem(
  status: "warn" | "fail",
  summary: string,
  fix: string,
  source: string,
  details?: Record<string, unknown>,
): CheckOutcome {
  return { status, summary, fix, source, ...(details ? { details } : {}) };
}
