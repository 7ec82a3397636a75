/**
 * `watchdog doctor`: runs every check against the live Nylas application and
 * Entra tenant and reports each as pass / warn / fail / skip with its fix.
 * Checks share facts through one DoctorContext, so the connector, the app and
 * the service principals are read once. A service error inside a check fails
 * that check only; a service that cannot be reached at all makes the exit 3, and
 * the watchdog's own identity refused (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET) the
 * exit 2: a setting to fix, as `scan` and `run` say.
 */
import { CredentialError, errorMessage, isHttpError } from "../errors.js";
import {
  CHECK_IDS,
  SkipCheck,
  type CheckId,
  type CheckOutcome,
  type CheckResult,
  type CheckStatus,
} from "./check.js";
import { CHECKS, type CheckDefinition } from "./checks/index.js";
import { DoctorContext, type DoctorDeps, type DoctorOptions, type DoctorService } from "./context.js";

import { DOCTOR_SCHEMA } from "./doctor-schema.js";

export { DOCTOR_SCHEMA };

/** One entry of `problems`: a check that did not pass, or the watchdog's own credential refused. */
export interface DoctorProblem {
  code: string;
  message: string;
  fix: string;
}

export interface DoctorReport {
  schema: typeof DOCTOR_SCHEMA;
  generatedAt: string;
  checks: CheckResult[];
  counts: Record<CheckStatus, number>;
  /** Services that could not be reached at all. */
  unreachable: DoctorService[];
  /** The watchdog's own identity refused (its message names the setting and the fix), once; else absent. */
  ownCredential?: string;
  /** Every warn and fail, then the own-credential refusal: empty exactly when the exit code is 0. */
  problems: DoctorProblem[];
  /**
   * The contract's exit code: 0 all pass · 1 any warn/fail · 2 the watchdog's own credential
   * refused · 3 Nylas or Graph unreachable.
   */
  exitCode: 0 | 1 | 2 | 3;
}

const OWN_CREDENTIAL_FIX =
  "This is the watchdog's own credential (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET), not the connector's: fix it as the message says, then run doctor again.";

/**
 * One check: its own outcome, `skip` when it skipped itself, else what `failed` makes of the error
 * it threw. `watchdog doctor` and the unattended self-check (run-unattended.ts) share it and judge
 * errors apart.
 */
export async function runCheck<F extends object>(
  ctx: DoctorContext,
  check: CheckDefinition,
  failed: (error: unknown) => F,
): Promise<{ id: CheckId; title: string } & (CheckOutcome | F)> {
  const base = { id: check.id, title: check.title };
  try {
    return { ...base, ...(await check.run(ctx)) };
  } catch (error) {
    if (error instanceof SkipCheck) return { ...base, status: "skip", summary: `Skipped: ${error.message}` };
    return { ...base, ...failed(error) };
  }
}

function runOne(
  ctx: DoctorContext,
  check: CheckDefinition,
  refused: CredentialError[],
): Promise<CheckResult> {
  return runCheck(ctx, check, (error): CheckOutcome => {
    if (error instanceof CredentialError) {
      refused.push(error);
      return {
        status: "fail",
        summary: `Could not check: ${error.message}`,
        fix: OWN_CREDENTIAL_FIX,
      };
    }
    ctx.noteError(error);
    ctx.logger.debug(`doctor: ${check.id} failed: ${errorMessage(error)}`);
    const http = isHttpError(error) ? error : undefined;
    return {
      status: "fail",
      summary: `Could not check: ${errorMessage(error)}`,
      fix:
        http && http.statusCode === 0
          ? `${http.service === "nylas" ? "Nylas (NYLAS_API_URI)" : "Microsoft Entra/Graph (AZURE_AUTHORITY_HOST, GRAPH_ENDPOINT)"} could not be reached: check the network path, then run doctor again.`
          : "Fix what the message names, then run doctor again.",
      ...(http
        ? {
            details: {
              service: http.service,
              statusCode: http.statusCode,
              requestId: http.requestId ?? null,
            },
          }
        : {}),
    };
  });
}

export async function runDoctor(deps: DoctorDeps, options: DoctorOptions = {}): Promise<DoctorReport> {
  const ctx = new DoctorContext(deps, options);
  const refused: CredentialError[] = [];
  // Independent checks run concurrently; the context fetches each shared fact once.
  const checks = await Promise.all(CHECKS.map((check) => runOne(ctx, check, refused)));
  checks.sort((a, b) => CHECK_IDS.indexOf(a.id) - CHECK_IDS.indexOf(b.id));
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  const unreachable = [...ctx.unreachable].sort();
  const ownCredential = refused[0]?.message;
  return {
    schema: DOCTOR_SCHEMA,
    generatedAt: deps.clock.now().toISOString(),
    checks,
    counts,
    unreachable,
    ...(ownCredential !== undefined ? { ownCredential } : {}),
    problems: problemsOf(checks, ownCredential),
    exitCode: exitCodeOf(counts, unreachable, ownCredential),
  };
}

/**
 * Why: the watchdog's own credential refused is a setting to fix (2), as for scan and run; it goes
 * before an unreachable service (3), since Entra answered and nothing else can be checked until it is fixed.
 */
function exitCodeOf(
  counts: Record<CheckStatus, number>,
  unreachable: readonly DoctorService[],
  ownCredential: string | undefined,
): DoctorReport["exitCode"] {
  if (ownCredential !== undefined) return 2;
  if (unreachable.length > 0) return 3;
  return counts.warn + counts.fail > 0 ? 1 : 0;
}

function problemsOf(checks: readonly CheckResult[], ownCredential: string | undefined): DoctorProblem[] {
  const problems = checks
    .filter((c) => c.status === "warn" || c.status === "fail")
    .map((c) => ({
      code: `check.${c.id}`,
      message: c.summary,
      fix: c.fix ?? "Run doctor again with --verbose to see what the check read.",
    }));
  if (ownCredential !== undefined)
    problems.push({ code: "credential.refused", message: ownCredential, fix: OWN_CREDENTIAL_FIX });
  return problems;
}
