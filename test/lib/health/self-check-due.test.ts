/** When the self-check is due: the last record, now and the deployment marker decide. */
import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";
import { selfCheckDue } from "../../../lib/health/self-check-due.js";
import type { SelfCheckRecord } from "../../../lib/health/self-check-record.js";

const NOW = new Date("2026-11-23T12:00:00Z");
const DEPLOYMENT = "build 0123456789ab settings 01234567";

function record(over: Partial<SelfCheckRecord> = {}): SelfCheckRecord {
  const at = new Date(NOW.getTime() - HOUR_MS).toISOString();
  return {
    v: 1,
    startedAt: at,
    checkedAt: at,
    deployment: DEPLOYMENT,
    reason: "never",
    identity: { objectId: "oid", appId: "appid" },
    checks: [{ id: "app.permission", status: "pass", summary: "ok" }],
    failing: [],
    complete: true,
    ...over,
  };
}

describe("selfCheckDue", () => {
  it("no record yet → due (the first pass of a new installation)", () => {
    expect(selfCheckDue(undefined, NOW, DEPLOYMENT)).toEqual({ due: true, reason: "never" });
  });

  it("the same deployment, checked an hour ago, all well → not due until a day after", () => {
    expect(selfCheckDue(record(), NOW, DEPLOYMENT)).toEqual({
      due: false,
      nextAt: new Date(NOW.getTime() - HOUR_MS + DAY_MS).toISOString(),
    });
  });

  it("another deployment → due at once, however recent the last one", () => {
    expect(selfCheckDue(record(), NOW, "build ffffffffffff settings 01234567")).toEqual({
      due: true,
      reason: "deployment",
    });
  });

  it("a day since the last → due; a minute short of a day → not", () => {
    const at = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
    expect(selfCheckDue(record({ checkedAt: at(DAY_MS) }), NOW, DEPLOYMENT)).toEqual({
      due: true,
      reason: "daily",
    });
    expect(selfCheckDue(record({ checkedAt: at(DAY_MS - 60_000) }), NOW, DEPLOYMENT).due).toBe(false);
  });

  it("a check still failing → due at every pass, so a fix is seen by the next one", () => {
    const failing = record({
      failing: [{ id: "app.permission", severity: "critical", summary: "lacks", fix: "grant" }],
    });
    expect(selfCheckDue(failing, NOW, DEPLOYMENT)).toEqual({ due: true, reason: "failing" });
  });

  it("a check that could not run last time → due again at the next pass", () => {
    expect(selfCheckDue(record({ complete: false }), NOW, DEPLOYMENT)).toEqual({
      due: true,
      reason: "incomplete",
    });
  });

  it("a record dated in the future, or with no readable date → due rather than trusted", () => {
    const future = new Date(NOW.getTime() + HOUR_MS).toISOString();
    expect(selfCheckDue(record({ checkedAt: future }), NOW, DEPLOYMENT)).toEqual({
      due: true,
      reason: "daily",
    });
    expect(selfCheckDue(record({ checkedAt: "yesterday" }), NOW, DEPLOYMENT)).toEqual({
      due: true,
      reason: "never",
    });
  });
});
