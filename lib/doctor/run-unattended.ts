/**
 * Doctor's checks as the deployed identity runs them, with nobody at the keyboard (the self-check,
 * lib/health/self-check.ts). Three differences from `watchdog doctor`:
 *
 * - no operator input: no `--secret`, and no `--probe-regions` (the API key goes only to the host
 *   NYLAS_API_URI names, as the deployment was told);
 * - a few checks are left out (UNATTENDED_EXCLUDED says why, each): those whose finding a pass
 *   already raises an incident for, so one cause does not page twice, and the one whose work grows
 *   with the number of users rather than saying anything about the deployment;
 * - a check that could not run is told apart from one that found a problem: a service that did not
 *   answer, timed out, throttled or failed (5xx), or an error nobody expected, is `unknown` — not
 *   evidence that the setup is broken, nor that it was fixed.
 */
import { CredentialError, errorMessage, isHttpError } from "../errors.js";
import { CHECK_IDS, type CheckId, type CheckOutcome, type CheckStatus } from "./check.js";
import { CHECKS, type CheckDefinition } from "./checks/index.js";
import { DoctorContext, type DoctorDeps } from "./context.js";
import { runCheck } from "./run-doctor.js";

/** A doctor status, or `unknown`: the check could not run, so it says nothing either way. */
export type UnattendedStatus = CheckStatus | "unknown";

export interface UnattendedResult {
  id: CheckId;
  title: string;
  status: UnattendedStatus;
  summary: string;
  /** What to do; on warn and fail. */
  fix?: string;
  /** The public pages the fix comes from. */
  source?: string;
}

export interface UnattendedReport {
  results: UnattendedResult[];
  /** Whom Graph saw: the object id and application id of the watchdog's token (null: no token). */
  identity: { objectId: string | null; appId: string | null } | null;
}

/** Left out unattended, and why. */
export const UNATTENDED_EXCLUDED: Readonly<Partial<Record<CheckId, string>>> = {
  "grants.scopes":
    "it reads every grant, work that grows with the users, to judge the users' grants, not the deployment; `watchdog doctor` reports it",
  "secrets.live":
    "every pass reads the same secrets and raises secret.expiring (and rotation.failed when Entra refuses the next one)",
  "rotation.safety":
    "every pass decides the same under its lease: installation.conflict for a second installation, and it settles a key in doubt itself",
};

/** Status codes that say "try again later", not "this is set up wrong". */
function transient(statusCode: number): boolean {
  return statusCode === 0 || statusCode === 408 || statusCode === 429 || statusCode >= 500;
}

/** What a thrown error says about the setup: a refusal to fix (4xx, no token), or nothing. */
function thrown(error: unknown): CheckOutcome | { status: "unknown"; summary: string } {
  const message = errorMessage(error);
  if (error instanceof CredentialError || (isHttpError(error) && !transient(error.statusCode))) {
    return {
      status: "fail",
      summary: `Refused: ${message}`,
      fix: "The deployed identity was refused (the message above names what it lacks): fix that setting or permission; the next self-check resolves this incident once the check passes.",
    };
  }
  return { status: "unknown", summary: `Could not run: ${message}` };
}

function runOne(ctx: DoctorContext, check: CheckDefinition): Promise<UnattendedResult> {
  return runCheck(ctx, check, (error) => {
    ctx.noteError(error);
    ctx.logger.debug(`self-check: ${check.id} threw: ${errorMessage(error)}`);
    return thrown(error);
  });
}

function stringClaim(claims: Record<string, unknown>, name: string): string | null {
  const value = claims[name];
  return typeof value === "string" ? value : null;
}

/** Runs every check but the excluded ones, concurrently, each shared fact read once. */
export async function runUnattendedChecks(deps: DoctorDeps): Promise<UnattendedReport> {
  const ctx = new DoctorContext(deps);
  const chosen = CHECKS.filter((check) => UNATTENDED_EXCLUDED[check.id] === undefined);
  const results = await Promise.all(chosen.map((check) => runOne(ctx, check)));
  results.sort((a, b) => CHECK_IDS.indexOf(a.id) - CHECK_IDS.indexOf(b.id));
  // Memoised: app.permission has usually asked for the token already.
  const claims = await ctx.claims().catch(() => undefined);
  const identity =
    claims === undefined
      ? null
      : { objectId: stringClaim(claims, "oid"), appId: stringClaim(claims, "appid") };
  return { results, identity };
}
