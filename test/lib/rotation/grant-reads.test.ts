/**
 * Removal and re-authentication are decided on reads of Nylas and Graph, so a
 * read that misses a grant, or contradicts what is known, must never be
 * enough for an irreversible step.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { connectorApp, keyIdsOnApp } from "../../helpers/tenant-view.js";
import { readTree } from "../../helpers/read-tree.js";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const app = connectorApp;
const keyIds = keyIdsOnApp;
/** Every removePassword sent, accepted or not. */
const removes = (w: World) =>
  w.sim.requests.filter((r) => r.service === "graph" && r.path.endsWith("/removePassword"));
const rotationState = (w: World) =>
  [...readTree(w.stateDir)].filter(([path]) => path.includes("rotation")).map(([p, v]) => `${p}=${v}`);

/**
 * W1 superseded by W2, with exactly one valid grant (X, the newest) depending on W1, behind
 * `before` older grants that do not: the set-up in which a skipped grant means an early retirement.
 */
async function oneUserOnW1(before: number) {
  world = await startWorld({ seed: { connectorSecretDaysLeft: 30, grantEmails: [] } });
  const w = world;
  app(w).signInAudience = "AzureADMultipleOrgs";
  const old = Math.floor((w.clock.now().getTime() - 300 * DAY_MS) / 1000);
  for (let i = 0; i < before; i++)
    w.sim.tenant.nylas.addGrant({ email: `user${i}@contoso.com`, created_at: old + i, updated_at: old + i });
  await w.pass();
  const w1 = w.sim.tenant.connectorSecret()!.password!.keyId;
  w.clock.advance(2 * HOUR_MS);
  const x = await w.sim.nylas.signIn("x@contoso.com");
  w.clock.advance(DAY_MS);
  await w.pass({ forceRotate: true });
  // The older users signed in again after the switch: on W2, not W1.
  w.clock.advance(2 * HOUR_MS);
  const now = Math.floor(w.clock.now().getTime() / 1000);
  for (const g of w.sim.tenant.nylas.grants) if (g.id !== x.id) g.updated_at = now;
  w.sim.tenant.nylas.markChanged();
  w.clock.advance(2 * DAY_MS); // long past RETIRE_GRACE_HOURS
  return { w, w1, x };
}

describe("grant reads see every grant", () => {
  // fidelity: N6
  it("pages capped at 100 (limit echoed as asked) lose no grant", async () => {
    const { w, w1 } = await oneUserOnW1(250);
    w.sim.tenant.nylas.grantPageCap = { max: 100, echo: "requested" };
    const r = await w.pass();
    expect(r.migration.validGrants).toBe(251);
    expect(r.migration.byKey.find((k) => k.keyId === w1)?.count).toBe(1);
    expect(keyIds(w)).toContain(w1);
    w.sim.tenant.nylas.grantPageCap = { max: 100, echo: "cap" };
    expect((await w.pass()).migration.validGrants).toBe(251);
    expect(keyIds(w)).toContain(w1);
  });

  // fidelity: N7
  it("a grant deleted while the list is read shifts the offsets: the read starts over and the only user on W1 is not skipped", async () => {
    const { w, w1, x } = await oneUserOnW1(200);
    for (let pass = 0; pass < 4; pass++) {
      // Between the first and second page, the oldest grant is deleted: X moves from offset 200 to 199.
      w.sim.tenant.nylas.beforeGrantsPage = (query, page) => {
        if (page === 1 && query.get("provider") === "microsoft") {
          const oldest = w.sim.tenant.nylas.sortedGrants("created_at")[0];
          if (oldest && oldest.id !== x.id) w.sim.tenant.nylas.removeGrant(oldest.id);
        }
      };
      w.clock.advance(6 * HOUR_MS);
      const r = await w.pass();
      expect(r.migration.byKey.find((k) => k.keyId === w1)?.count).toBe(1);
      expect(keyIds(w)).toContain(w1);
    }
    expect(removes(w)).toHaveLength(0);
  });

  // fidelity: N7
  it("grants going invalid or re-authenticating while the list is read lose no dependent", async () => {
    const { w, w1, x } = await oneUserOnW1(200);
    const y = await w.sim.nylas.signIn("y@contoso.com"); // on W2: not a dependent, sorts after X
    expect(y.id).not.toBe(x.id);
    let changed = 0;
    w.sim.tenant.nylas.beforeGrantsPage = (query, page) => {
      if (page !== 1 || query.get("provider") !== "microsoft" || changed > 0) return;
      changed++;
      // An older user's grant goes invalid (it leaves the grant_status=valid listing: a shift), and
      // another re-authenticates (its updated_at changes; created_at, the sort key, does not).
      const [a, b] = w.sim.tenant.nylas.sortedGrants("created_at");
      a!.grant_status = "invalid";
      b!.updated_at = Math.floor(w.clock.now().getTime() / 1000);
      w.sim.tenant.nylas.markChanged();
    };
    w.clock.advance(6 * HOUR_MS);
    const r = await w.pass();
    expect(changed).toBe(1);
    expect(r.migration.complete).toBe(true);
    expect(r.migration.validGrants).toBe(201); // 200 + X + Y, less the one that went invalid
    expect(r.migration.byKey.find((k) => k.keyId === w1)?.count).toBe(1);
    expect(keyIds(w)).toContain(w1);
  });

  it("an empty page where grants existed changes no record and removes nothing", async () => {
    const { w, w1 } = await oneUserOnW1(2);
    await w.pass(); // a complete read: 3 valid grants, 1 on W1
    const before = rotationState(w);
    const fault = w.sim.faults.add({
      service: "nylas",
      method: "GET",
      path: "/v3/grants",
      response: { status: 200, body: { request_id: "r", data: [], limit: 200, offset: 0 } },
    });
    w.clock.advance(6 * HOUR_MS);
    const r = await w.pass();
    expect(fault.hits).toBe(1);
    expect(r.migration.complete).toBe(false);
    expect(rotationState(w)).toEqual(before);
    expect(keyIds(w)).toContain(w1);
    expect(removes(w)).toHaveLength(0);
  });

  it("passwordCredentials: [] once changes no record and removes nothing", async () => {
    const { w, w1 } = await oneUserOnW1(2);
    await w.pass();
    const before = rotationState(w);
    const a = app(w);
    const fault = w.sim.faults.add({
      service: "graph",
      method: "GET",
      path: /applications/,
      times: 1,
      response: {
        status: 200,
        body: {
          value: [
            {
              id: a.id,
              appId: a.appId,
              displayName: a.displayName,
              passwordCredentials: [],
              keyCredentials: [],
            },
          ],
          id: a.id,
          appId: a.appId,
          displayName: a.displayName,
          passwordCredentials: [],
          keyCredentials: [],
        },
      },
    });
    w.clock.advance(6 * HOUR_MS);
    const r = await w.pass();
    expect(fault.hits).toBe(1);
    expect(r.recovery?.unconfirmedMissing.length).toBeGreaterThan(0);
    expect(r.rotation.decision).not.toBe("rotated");
    expect(rotationState(w)).toEqual(before);
    expect(keyIds(w)).toContain(w1);
    expect(removes(w)).toHaveLength(0);
    // And the next normal pass carries on as before.
    w.clock.advance(6 * HOUR_MS);
    expect((await w.pass()).migration.byKey.find((k) => k.keyId === w1)?.count).toBe(1);
  });
});
