/**
 * Two installations (two state stores) against one tenant: the outage this
 * product must never cause. A runner whose store has no record of a key must
 * not read that as "never sent to Nylas".
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorld, type World } from "../../helpers/world.js";
import {
  connectorApp,
  grantsOnRemovedKeys,
  invalidGrantsAfterRefresh,
  keyIdsOnApp,
} from "../../helpers/tenant-view.js";
import { startAzurite, type Azurite } from "../../helpers/azurite.js";
import { parseMarker } from "../../../lib/rotation/marker.js";
import { DAY_MS, HOUR_MS } from "../../../lib/clock.js";

let world: World | undefined;
let azurite: Azurite | undefined;
beforeAll(async () => {
  azurite = await startAzurite();
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const app = connectorApp;
const keyIds = keyIdsOnApp;
const invalidGrants = invalidGrantsAfterRefresh;

/** Graph writes and Nylas connector writes, from the simulator's request log. */
function writes(w: World) {
  return w.sim.requests.filter(
    (r) =>
      (r.service === "graph" && r.method === "POST" && /\/(add|remove)Password$/.test(r.path)) ||
      (r.service === "nylas" && r.method !== "GET"),
  ).length;
}

type StoreKind = "file" | "table";
const otherStore = (kind: StoreKind, dir: string): Record<string, string> =>
  kind === "file"
    ? { WATCHDOG_STATE_DIR: dir }
    : { AzureWebJobsStorage: azurite!.connectionString, WATCHDOG_STATE_DIR: "" };

// fidelity: E12, N10
describe.each<StoreKind>(["file", "table"])("a second installation (%s store)", (kind) => {
  it("changes nothing without --adopt, takes over cleanly with it, and no key in use is ever removed", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    app(w).signInAudience = "AzureADMultipleOrgs";
    const dirB = mkdtempSync(join(tmpdir(), "watchdog-b-"));
    const envB = otherStore(kind, dirB);
    const passB = (adopt = false) => w.pass({ adopt }, envB);
    try {
      // Installation A rotates; the connector holds A's key; two users sign in on it.
      const first = await w.pass();
      expect(first.rotation.decision).toBe("rotated");
      const keyA = w.sim.tenant.connectorSecret()!.password!.keyId;
      await w.sim.nylas.signIn("new.user@contoso.com");
      await w.sim.nylas.signIn("adele.vance@contoso.com");

      // B has no record of A's key: it refuses, changes nothing on Graph or Nylas, and names A.
      const before = writes(w);
      const refused = await passB();
      expect(refused.rotation.decision).toBe("other-installation");
      expect(refused.exitCode).toBe(3);
      const installationA = parseMarker(
        app(w).passwordCredentials.find((p) => p.keyId === keyA)!.displayName,
      )!.installationId!;
      expect(refused.rotation.reason).toContain(installationA);
      expect(refused.rotation.reason).toMatch(/--adopt/);
      expect(refused.rotation.reason).toMatch(/WATCHDOG_STATE_DIR/);
      expect(writes(w)).toBe(before);
      expect(keyIds(w)).toContain(keyA);

      // More passes on both sides, days apart: still nothing from B; A keeps working.
      for (let day = 0; day < 3; day++) {
        w.clock.advance(1 * DAY_MS);
        const b = await passB();
        expect(b.rotation.decision).toBe("other-installation");
        expect((await w.pass()).exitCode).not.toBe(3);
      }
      expect(keyIds(w)).toContain(keyA);
      expect(await invalidGrants(w)).toEqual([]);

      // B adopts: A's keys become "may be in the connector", never removed by B.
      const adopted = await passB(true);
      expect(adopted.exitCode).not.toBe(3);
      expect(adopted.plan.join("\n")).toMatch(new RegExp(`adopt the connector from ${installationA}`));
      // A, now finding B's keys, refuses in turn.
      if (adopted.rotation.decision === "rotated") {
        expect((await w.pass()).rotation.decision).toBe("other-installation");
      }
      // Weeks of B's passes, with Nylas refreshing grants: A's key and the grants on it survive.
      for (let day = 0; day < 20; day++) {
        w.clock.advance(1 * DAY_MS);
        await passB();
        expect(keyIds(w)).toContain(keyA);
      }
      expect(await invalidGrants(w)).toEqual([]);
      expect(w.sim.tenant.checkSecret(app(w), w.sim.tenant.nylas.connector!.settings.client_secret!).ok).toBe(
        true,
      );

      // A user signs in on B's key; then A adopts back. The takeover rotates, so B, running on with its old
      // state, finds a key it does not know and stops in turn — and nobody removes B's key, which the user's
      // grant uses: A tracks it as adopted, and that user as depending on it.
      const keyB = w.sim.tenant.connectorSecret()!.password!.keyId;
      w.clock.advance(2 * HOUR_MS);
      await w.sim.nylas.signIn("on.b@contoso.com");
      w.clock.advance(2 * HOUR_MS);
      const back = await w.pass({ adopt: true });
      expect(back.rotation.decision).toBe("rotated");
      expect(back.rotation.reason).toMatch(/--adopt/);
      expect(back.migration.byKey.find((k) => k.keyId === keyB)?.count).toBeGreaterThanOrEqual(1);
      expect((await passB()).rotation.decision).toBe("other-installation");
      for (let day = 0; day < 10; day++) {
        w.clock.advance(1 * DAY_MS);
        await w.pass();
        expect(keyIds(w)).toContain(keyB);
      }
      // Over five weeks the original secret expired under its users (they were asked to sign in again);
      // what must never happen is a grant losing its secret to a removal.
      expect(grantsOnRemovedKeys(w)).toEqual([]);
      await w.sim.nylas.tick();
      expect(w.sim.tenant.nylas.grantByEmail("on.b@contoso.com")?.grant_status).toBe("valid");
    } finally {
      rmSync(dirB, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("an installation whose store was lost", () => {
  it("finds its old keys unrecorded, refuses, and removes nothing", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    await w.pass();
    const key = w.sim.tenant.connectorSecret()!.password!.keyId;
    await w.sim.nylas.signIn("new.user@contoso.com");
    // azd down / a new laptop: the state is gone.
    rmSync(w.stateDir, { recursive: true, force: true });
    const before = writes(w);
    for (let i = 0; i < 3; i++) {
      w.clock.advance(2 * HOUR_MS);
      const r = await w.pass();
      expect(r.rotation.decision).toBe("other-installation");
    }
    expect(writes(w)).toBe(before);
    expect(keyIds(w)).toContain(key);
    expect(await invalidGrants(w)).toEqual([]);
  });
});
