/**
 * `watchdog doctor`: runs every check against the live Nylas application and
 * Entra tenant and reports each as pass / warn / fail / skip with its fix.
 * Checks share facts through one DoctorContext, so the connector, the app and
 * the service principals are read once. A service error inside a check fails
 * that check only; a service that cannot be reached at all makes the exit 3.
 */
import { errorMessage, isHttpError } from "../errors.js";
import { CHECK_IDS, SkipCheck, type CheckResult, type CheckStatus } from "./check.js";
import { CHECKS, type CheckDefinition } from "./checks/index.js";
import { DoctorContext, type DoctorDeps, type DoctorOptions, type DoctorService } from "./context.js";

import { DOCTOR_SCHEMA } from "./doctor-schema.js";

export { DOCTOR_SCHEMA };

export interface DoctorReport {
  schema: typeof DOCTOR_SCHEMA;
  generatedAt: string;
  checks: CheckResult[];
  counts: Record<CheckStatus, number>;
  /** Services that could not be reached at all. */
  unreachable: DoctorService[];
  /** The contract's exit code: 0 all pass · 1 any warn/fail · 3 Nylas or Graph unreachable. */
  exitCode: 0 | 1 | 3;
}

async function runOne(ctx: DoctorContext, check: CheckDefinition): Promise<CheckResult> {
  const base = { id: check.id, title: check.title };
  try {
    return { ...base, ...(await check.run(ctx)) };
  } catch (error) {
    if (error instanceof SkipCheck) return { ...base, status: "skip", summary: `Skipped: ${error.message}` };
    ctx.noteError(error);
    ctx.logger.debug(`doctor: ${check.id} failed: ${errorMessage(error)}`);
    const http = isHttpError(error) ? error : undefined;
    return {
      ...base,
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
  }
}

export async function runDoctor(deps: DoctorDeps, options: DoctorOptions = {}): Promise<DoctorReport> {
  const ctx = new DoctorContext(deps, options);
  // Independent checks run concurrently; the context fetches each shared fact once.
  const checks = await Promise.all(CHECKS.map((check) => runOne(ctx, check)));
  checks.sort((a, b) => CHECK_IDS.indexOf(a.id) - CHECK_IDS.indexOf(b.id));
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  const unreachable = [...ctx.unreachable].sort();
  return {
    schema: DOCTOR_SCHEMA,
    generatedAt: deps.clock.now().toISOString(),
    checks,
    counts,
    unreachable,
    exitCode: unreachable.length > 0 ? 3 : counts.warn + counts.fail > 0 ? 1 : 0,
  };
}
