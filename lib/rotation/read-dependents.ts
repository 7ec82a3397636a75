/**
 * The migration's grant read: every valid Microsoft grant, read completely and
 * consistently, and which superseded key each may still depend on. Absence of
 * dependents is evidence only from a read that saw everything, so this file
 * also says whether a read may decide anything.
 */
import type { Logger } from "../logger.js";
import { InconsistentReadError } from "../clients/nylas.js";
import { MigrationTracker, dependencyWindows, type DependentGrant } from "./migrate.js";
import type { RotationPorts } from "./ports.js";
import type { KeyRecord } from "./records.js";

const READ_ATTEMPTS = 3;

export interface GrantRead {
  tracker: MigrationTracker;
  dependents: DependentGrant[];
  validGrants: number;
  complete: boolean;
}

/** What else a pass knows that may make its grant read undecisive. */
export interface ReadJudgement {
  /** Valid grants the previous pass read: a read of none after some is contradictory. */
  previousValidGrants: number | null;
  /** This pass's Graph read contradicted the records (keys missing): decide nothing irreversible. */
  appReadContradicts: boolean;
}

/** Reads every valid Microsoft grant, again if the list changed while it was read. */
export async function readDependents(
  records: readonly KeyRecord[],
  ports: Pick<RotationPorts, "config" | "nylas" | "logger">,
): Promise<GrantRead> {
  const margin = ports.config.rotation.switchMarginMinutes * 60;
  let read: GrantRead | undefined;
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    read = {
      tracker: new MigrationTracker(dependencyWindows(records, margin), records),
      dependents: [],
      validGrants: 0,
      complete: false,
    };
    try {
      for await (const page of ports.nylas.listGrantPages({
        provider: "microsoft",
        grantStatus: "valid",
        consistent: true,
      })) {
        for (const grant of page) {
          read.validGrants++;
          const dep = read.tracker.consider(grant);
          if (dep !== undefined) read.dependents.push(dep);
        }
      }
      read.complete = true;
      return read;
    } catch (error) {
      if (!(error instanceof InconsistentReadError)) throw error;
      ports.logger.warn(`migration: ${error.message} Reading again (${attempt}/${READ_ATTEMPTS}).`);
    }
  }
  return read!;
}

/**
 * Whether this pass's grant read may decide anything. Why: a read cut short, an app read that
 * contradicted the records, or every grant gone at once (more likely a bad answer than the truth) must
 * not let "nobody depends on it" through; a later pass confirms.
 */
export function readIsDecisive(read: GrantRead, judgement: ReadJudgement, logger: Logger): boolean {
  if (!read.complete || judgement.appReadContradicts) return false;
  if (read.validGrants === 0 && (judgement.previousValidGrants ?? 0) > 0) {
    logger.warn(
      `migration: Nylas listed no valid grant where the previous pass read ${judgement.previousValidGrants}; nothing is decided on this read.`,
    );
    return false;
  }
  return true;
}
