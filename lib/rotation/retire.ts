/**
 * Retirement: which superseded secrets may be removed — the one place that
 * decides it. Removal cannot be undone, so it needs positive evidence:
 *
 * - with trusted sign-in evidence: no sign-in with the key for
 *   RETIRE_QUIET_HOURS after the switch (and RETIRE_GRACE_HOURS passed); any
 *   sign-in within that window vetoes it, whatever the grants' timestamps say;
 * - without: a complete, consistent grant read found no valid grant depending
 *   on it, in two passes running (one read proves nothing), and
 *   RETIRE_GRACE_HOURS have passed since the switch.
 *
 * Otherwise it is left to expire. Expired watchdog-created secrets are cleaned
 * up. Never the connector's secret, never a secret this installation did not
 * create (foreign secrets and other installations' are only ever untracked).
 */
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import type { GraphApplication, GraphClient } from "../clients/graph.js";
import { isExpired } from "../watch/classify.js";
import { lastUse, type Evidence } from "./evidence.js";
import { FOREIGN, saveKeyRecord, type KeyRecord } from "./records.js";
import { removeKeyWithRetry } from "./rotate.js";

export interface RetirementAction {
  keyId: string;
  action: "remove" | "stop-tracking" | "keep";
  reason: string;
}

export interface RetirementInput {
  app: GraphApplication;
  records: readonly KeyRecord[];
  /** Valid grants inferred to depend on each key (from the grant read). */
  dependents: (keyId: string) => number;
  /** The grant read was complete and consistent. */
  complete: boolean;
  evidence: Evidence;
  now: Date;
  config: Pick<Config["rotation"], "retireGraceHours" | "retireQuietHours">;
}

export function planRetirement(input: RetirementInput): RetirementAction[] {
  const present = new Set(input.app.passwordCredentials.map((p) => p.keyId));
  const out: RetirementAction[] = [];
  for (const r of input.records) {
    if (r.state !== "superseded") continue;
    const facts = factsAbout(r, input);
    const action = neverRemovedHere(r)
      ? planUntracking(r, facts, input)
      : planRemoval(r, facts, present, input);
    if (action !== undefined) out.push(action);
  }
  return out;
}

/** What retirement knows about one superseded key this pass. */
interface KeyFacts {
  /** When the switch superseded it (ms; now when unknown). */
  switchedAt: number;
  sinceSwitchMs: number;
  /** The sign-in report can be trusted to show absence of use. */
  trusted: boolean;
  /** Its last sign-in that is not the watchdog's own proof (trusted evidence only). */
  use: string | null;
  /** Since the later of the switch and its last use. */
  quietForMs: number;
  dependents: number;
}

function factsAbout(r: KeyRecord, input: RetirementInput): KeyFacts {
  const { records, evidence, now } = input;
  const switchedAt = Date.parse(r.supersededAt ?? now.toISOString());
  const trusted = evidence.mode === "evidence";
  const use = trusted ? lastUse(r, records, evidence) : null;
  return {
    switchedAt,
    sinceSwitchMs: now.getTime() - switchedAt,
    trusted,
    use,
    quietForMs: now.getTime() - Math.max(switchedAt, use === null ? 0 : Date.parse(use)),
    dependents: input.dependents(r.keyId),
  };
}

/** Why: foreign and adopted secrets were made by someone else, who may rely on them: never removed here. */
function neverRemovedHere(r: KeyRecord): boolean {
  return r.keyId === FOREIGN || r.origin === "adopted";
}

/** A secret this installation does not own: stop tracking it once it expired or nothing depends on it. */
function planUntracking(r: KeyRecord, facts: KeyFacts, input: RetirementInput): RetirementAction | undefined {
  const expired = isExpired(r.endDateTime, input.now);
  if (!expired && !noLongerUsed(r, facts, input)) return undefined;
  return {
    keyId: r.keyId,
    action: "stop-tracking",
    reason: expired ? "the earlier secret(s) expired" : "no grant depends on the earlier secret(s)",
  };
}

/**
 * Why: with trusted evidence, quiet for RETIRE_QUIET_HOURS means unused; without it, only complete reads
 * in two passes running that found no dependent grant do (one read proves nothing).
 */
function noLongerUsed(r: KeyRecord, facts: KeyFacts, input: RetirementInput): boolean {
  return facts.trusted
    ? !stillSigningIn(facts, input.config)
    : input.complete && facts.dependents === 0 && r.noDependentsSince !== undefined;
}

/** This installation's superseded key: removed only when every rule that keeps it is satisfied. */
function planRemoval(
  r: KeyRecord,
  facts: KeyFacts,
  present: ReadonlySet<string>,
  input: RetirementInput,
): RetirementAction {
  const { config } = input;
  const keep = (reason: string): RetirementAction => ({ keyId: r.keyId, action: "keep", reason });
  if (!present.has(r.keyId))
    return keep("not listed by this Graph read; a later pass confirms before anything changes");
  // An expired secret authenticates nobody: removing it cannot break a grant.
  if (isExpired(r.endDateTime, input.now))
    return { keyId: r.keyId, action: "remove", reason: "expired (watchdog-created, superseded)" };
  if (stillSigningIn(facts, config)) return keep(notQuietReason(facts, config));
  if (grantsStillDepend(facts)) return keep(`${facts.dependents} valid grant(s) still depend on it`);
  if (withinGrace(facts, config))
    return keep(`within RETIRE_GRACE_HOURS (${config.retireGraceHours} h) of the switch`);
  if (!input.complete) return keep("the grant list could not be read completely and consistently this pass");
  if (awaitingSecondPass(r, facts))
    return keep("no valid grant depends on it; a second pass confirms before it is removed");
  return {
    keyId: r.keyId,
    action: "remove",
    reason: facts.trusted
      ? `Entra reports no sign-in with it for ${Math.floor(facts.quietForMs / HOUR_MS)} h since the switch`
      : "superseded, no valid grant depends on it in two passes, grace period over",
  };
}

/** Why: a trusted report's sign-in within RETIRE_QUIET_HOURS vetoes removal, whatever the grants' timestamps say. */
function stillSigningIn(facts: KeyFacts, config: RetirementInput["config"]): boolean {
  return facts.trusted && facts.quietForMs < config.retireQuietHours * HOUR_MS;
}

function notQuietReason(facts: KeyFacts, config: RetirementInput["config"]): string {
  return facts.use !== null && Date.parse(facts.use) > facts.switchedAt
    ? `Entra saw it sign in at ${facts.use}: in use (RETIRE_QUIET_HOURS ${config.retireQuietHours} h of quiet needed)`
    : `quiet for ${Math.floor(facts.quietForMs / HOUR_MS)} h of the ${config.retireQuietHours} h (RETIRE_QUIET_HOURS) needed`;
}

/** Why: without trusted evidence, the grants inferred to use a key are the only sign it is in use. */
function grantsStillDepend(facts: KeyFacts): boolean {
  return !facts.trusted && facts.dependents > 0;
}

/** Why: RETIRE_GRACE_HOURS is the least a superseded secret is kept after the switch, whatever the evidence. */
function withinGrace(facts: KeyFacts, config: RetirementInput["config"]): boolean {
  return facts.sinceSwitchMs < config.retireGraceHours * HOUR_MS;
}

/** Why: without trusted evidence, one read that found no dependents proves nothing; a second pass must agree. */
function awaitingSecondPass(r: KeyRecord, facts: KeyFacts): boolean {
  return !facts.trusted && r.noDependentsSince === undefined;
}

export async function executeRetirement(
  app: GraphApplication,
  records: readonly KeyRecord[],
  actions: readonly RetirementAction[],
  deps: { store: StateStore; graph: GraphClient; clock: Clock; logger: Logger },
): Promise<string[]> {
  const byId = new Map(records.map((r) => [r.keyId, r]));
  const removed: string[] = [];
  const now = deps.clock.now().toISOString();
  for (const action of actions) {
    const record = byId.get(action.keyId);
    if (record === undefined || action.action === "keep") continue;
    if (action.action === "remove") {
      deps.logger.info(`retirement: removing secret ${action.keyId}: ${action.reason}`);
      if (!(await removeKeyWithRetry(deps.graph, app.id, action.keyId, deps))) continue;
      removed.push(action.keyId);
    }
    await saveKeyRecord(deps.store, { ...record, state: "removed", removedAt: now });
  }
  return removed;
}
