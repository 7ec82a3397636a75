/**
 * When the self-check runs: on the first pass after a deployment, then daily — and at every pass
 * while a check fails or could not run, so a fix is confirmed (and its incident resolved) by the
 * next pass rather than a day later. A pure function of the last record, now and the current
 * deployment marker: the durable record decides, not the process, so a Function App that scales to
 * zero between passes does not re-run it at every cold start, and one that redeploys does not wait
 * a day.
 */
import { DAY_MS } from "../clock.js";
import type { SelfCheckReason, SelfCheckRecord } from "./self-check-record.js";

export const SELF_CHECK_INTERVAL_MS = DAY_MS;

export type SelfCheckDue = { due: true; reason: SelfCheckReason } | { due: false; nextAt: string };

export function selfCheckDue(last: SelfCheckRecord | undefined, now: Date, deployment: string): SelfCheckDue {
  if (last === undefined) return { due: true, reason: "never" };
  if (last.deployment !== deployment) return { due: true, reason: "deployment" };
  const checked = Date.parse(last.checkedAt);
  if (Number.isNaN(checked)) return { due: true, reason: "never" };
  const age = now.getTime() - checked;
  // A record dated in the future (a clock set back) cannot say how old it is: run rather than wait.
  if (age >= SELF_CHECK_INTERVAL_MS || age < 0) return { due: true, reason: "daily" };
  if (last.failing.length > 0) return { due: true, reason: "failing" };
  // A service did not answer last time: that is no verdict, so try again at the next pass.
  if (!last.complete) return { due: true, reason: "incomplete" };
  return { due: false, nextAt: new Date(checked + SELF_CHECK_INTERVAL_MS).toISOString() };
}
