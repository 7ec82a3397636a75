/**
 * planRetirement decides which superseded secret may be removed: removal cannot
 * be undone, so every rule that keeps a secret is pinned here, one case each,
 * with the reason on-call reads.
 */
import { describe, expect, it } from "vitest";
import { HOUR_MS } from "../../../lib/clock.js";
import type { GraphApplication } from "../../../lib/clients/graph.js";
import type { Evidence } from "../../../lib/rotation/evidence.js";
import { FOREIGN, type KeyRecord } from "../../../lib/rotation/records.js";
import { planRetirement, type RetirementInput } from "../../../lib/rotation/retire.js";

const now = new Date(Date.UTC(2026, 10, 23, 12, 0, 0));
const ago = (hours: number) => new Date(now.getTime() - hours * HOUR_MS).toISOString();
const later = (hours: number) => new Date(now.getTime() + hours * HOUR_MS).toISOString();
const config = { retireGraceHours: 24, retireQuietHours: 72 };

function superseded(keyId: string, extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    v: 1,
    keyId,
    appId: "app",
    appObjectId: "obj",
    rotationId: "r-20261101T000000Z-aaaaaa",
    createdAt: ago(24 * 30),
    endDateTime: later(24 * 60),
    state: "superseded",
    windowStart: ago(24 * 30),
    supersededAt: ago(100),
    ...extra,
  };
}

function appWith(...keyIds: string[]): GraphApplication {
  return {
    id: "obj",
    appId: "app",
    displayName: null,
    passwordCredentials: keyIds.map((keyId) => ({
      keyId,
      displayName: null,
      hint: null,
      startDateTime: null,
      endDateTime: null,
    })),
    keyCredentials: [],
  };
}

const blind: Evidence = { mode: "blind", reason: "", lastSignIn: new Map() };
const trusted = (lastSignIn: [string, string | null][] = []): Evidence => ({
  mode: "evidence",
  reason: "",
  lastSignIn: new Map(lastSignIn),
});

function plan(records: KeyRecord[], over: Partial<RetirementInput> = {}) {
  return planRetirement({
    app: appWith(...records.map((r) => r.keyId).filter((k) => k !== FOREIGN)),
    records,
    dependents: () => 0,
    complete: true,
    evidence: blind,
    now,
    config,
    ...over,
  });
}

describe("planRetirement without trusted sign-in evidence", () => {
  it("removes a superseded key nothing depends on in two complete passes, past the grace period", () => {
    expect(plan([superseded("k1", { noDependentsSince: ago(6) })])).toEqual([
      {
        keyId: "k1",
        action: "remove",
        reason: "superseded, no valid grant depends on it in two passes, grace period over",
      },
    ]);
  });

  it("keeps it while valid grants depend on it", () => {
    const out = plan([superseded("k1", { noDependentsSince: ago(6) })], { dependents: () => 2 });
    expect(out).toEqual([{ keyId: "k1", action: "keep", reason: "2 valid grant(s) still depend on it" }]);
  });

  it("keeps it within RETIRE_GRACE_HOURS of the switch (and when the switch time is unknown)", () => {
    expect(plan([superseded("k1", { supersededAt: ago(3), noDependentsSince: ago(1) })])[0]).toMatchObject({
      action: "keep",
      reason: "within RETIRE_GRACE_HOURS (24 h) of the switch",
    });
    const { supersededAt: _unknown, ...noSwitch } = superseded("k1", { noDependentsSince: ago(1) });
    expect(plan([noSwitch])[0]).toMatchObject({ action: "keep", reason: expect.stringContaining("GRACE") });
  });

  it("keeps it when the grant read was not complete and consistent", () => {
    const out = plan([superseded("k1", { noDependentsSince: ago(6) })], { complete: false });
    expect(out[0]).toMatchObject({ action: "keep", reason: expect.stringContaining("completely") });
  });

  it("keeps it after only one pass found no dependents", () => {
    expect(plan([superseded("k1")])[0]).toMatchObject({
      action: "keep",
      reason: "no valid grant depends on it; a second pass confirms before it is removed",
    });
  });

  it("keeps a key this Graph read did not list, whatever else holds", () => {
    const out = plan([superseded("k1", { noDependentsSince: ago(6) })], { app: appWith() });
    expect(out[0]).toMatchObject({ action: "keep", reason: expect.stringContaining("not listed") });
  });

  it("removes an expired superseded key even while grants are said to depend on it", () => {
    const out = plan([superseded("k1", { endDateTime: ago(1) })], { dependents: () => 5, complete: false });
    expect(out).toEqual([
      { keyId: "k1", action: "remove", reason: "expired (watchdog-created, superseded)" },
    ]);
  });

  it("ignores keys that are not superseded", () => {
    const records = (["created", "sent", "installed", "removed"] as const).map((state) =>
      superseded(`k-${state}`, { state, noDependentsSince: ago(6) }),
    );
    expect(plan(records)).toEqual([]);
  });
});

describe("planRetirement with trusted sign-in evidence", () => {
  it("removes a key quiet for RETIRE_QUIET_HOURS since the switch, even if grants are said to depend on it", () => {
    const out = plan([superseded("k1")], {
      evidence: trusted([["k1", ago(150)]]),
      dependents: () => 3,
    });
    expect(out).toEqual([
      {
        keyId: "k1",
        action: "remove",
        reason: "Entra reports no sign-in with it for 100 h since the switch",
      },
    ]);
  });

  it("keeps a key that signed in after the switch, naming when", () => {
    const out = plan([superseded("k1")], { evidence: trusted([["k1", ago(10)]]) });
    expect(out[0]).toMatchObject({
      action: "keep",
      reason: `Entra saw it sign in at ${ago(10)}: in use (RETIRE_QUIET_HOURS 72 h of quiet needed)`,
    });
  });

  it("keeps a key not yet quiet long enough", () => {
    const out = plan([superseded("k1", { supersededAt: ago(30) })], { evidence: trusted() });
    expect(out[0]).toMatchObject({
      action: "keep",
      reason: "quiet for 30 h of the 72 h (RETIRE_QUIET_HOURS) needed",
    });
  });

  it("does not count the watchdog's own proof as use", () => {
    const out = plan([superseded("k1", { provenAt: ago(10) })], { evidence: trusted([["k1", ago(10)]]) });
    expect(out[0]).toMatchObject({ action: "remove" });
  });

  it("still needs the grace period and a complete read", () => {
    const short = { retireGraceHours: 200, retireQuietHours: 72 };
    expect(plan([superseded("k1")], { evidence: trusted(), config: short })[0]).toMatchObject({
      action: "keep",
      reason: expect.stringContaining("GRACE"),
    });
    expect(plan([superseded("k1")], { evidence: trusted(), complete: false })[0]).toMatchObject({
      action: "keep",
      reason: expect.stringContaining("completely"),
    });
  });
});

describe("planRetirement for secrets this installation did not make", () => {
  it("never removes a foreign or adopted secret: it only stops tracking it once expired", () => {
    const records = [
      superseded(FOREIGN, { endDateTime: ago(1) }),
      superseded("adopted", { origin: "adopted", endDateTime: ago(1) }),
    ];
    expect(plan(records, { dependents: () => 4, complete: false })).toEqual([
      { keyId: FOREIGN, action: "stop-tracking", reason: "the earlier secret(s) expired" },
      { keyId: "adopted", action: "stop-tracking", reason: "the earlier secret(s) expired" },
    ]);
  });

  it("stops tracking without evidence only after a complete read found no dependents twice", () => {
    const second = superseded(FOREIGN, { noDependentsSince: ago(6), supersededAt: ago(1) });
    expect(plan([second])).toEqual([
      { keyId: FOREIGN, action: "stop-tracking", reason: "no grant depends on the earlier secret(s)" },
    ]);
    expect(plan([superseded(FOREIGN)])).toEqual([]);
    expect(plan([second], { complete: false })).toEqual([]);
    expect(plan([second], { dependents: () => 1 })).toEqual([]);
  });

  it("with evidence, stops tracking once the foreign secrets were quiet long enough", () => {
    const records = [superseded(FOREIGN, { supersededAt: ago(100) })];
    expect(plan(records, { evidence: trusted([["someone-elses", ago(90)]]) })).toEqual([
      { keyId: FOREIGN, action: "stop-tracking", reason: "no grant depends on the earlier secret(s)" },
    ]);
    expect(plan(records, { evidence: trusted([["someone-elses", ago(10)]]) })).toEqual([]);
  });
});
