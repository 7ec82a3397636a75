/**
 * The last self-check, as the state store keeps it (`runs/selfCheck`, beside the timers' run
 * records): what decides when the next one is due, and what `/api/health` shows of it. Type
 * imports only, so health reads it without loading doctor's checks.
 */
import type { StateStore } from "../state/store.js";
import type { CheckId } from "../doctor/check.js";
import type { UnattendedStatus } from "../doctor/run-unattended.js";
import type { FailingCheck } from "./self-check-signals.js";

export const SELF_CHECK_KEY = "selfCheck";

/**
 * Why a self-check ran: no record yet, a new deployment, a day since the last, a check still
 * failing (to see the fix as soon as it is made), or one that could not run last time.
 */
export type SelfCheckReason = "never" | "deployment" | "daily" | "failing" | "incomplete";

export interface SelfCheckRecord {
  v: 1;
  startedAt: string;
  /** When it finished (ISO 8601): a day after this, the next is due. */
  checkedAt: string;
  /** The deployment it ran for (`deployment-marker.ts`): a different one makes the next pass run it again. */
  deployment: string;
  reason: SelfCheckReason;
  /** Whom Graph saw: the deployed identity's object id and application id (null: it got no token). */
  identity: { objectId: string | null; appId: string | null } | null;
  checks: { id: CheckId; status: UnattendedStatus; summary: string }[];
  /** The `setup.broken:<check>` incidents open after it: raised now, or kept open by a check that could not tell. */
  failing: FailingCheck[];
  /** Every check ran (none `unknown`): an incomplete self-check is run again at the next pass. */
  complete: boolean;
}

/** The last record, or undefined (none yet, or one of another shape: then a self-check is due). */
export async function readSelfCheck(store: StateStore): Promise<SelfCheckRecord | undefined> {
  const item = await store.get<SelfCheckRecord>("runs", SELF_CHECK_KEY);
  const value = item?.value;
  return value?.v === 1 && Array.isArray(value.checks) && Array.isArray(value.failing) ? value : undefined;
}

export async function writeSelfCheck(store: StateStore, record: SelfCheckRecord): Promise<void> {
  await store.put("runs", SELF_CHECK_KEY, record);
}
