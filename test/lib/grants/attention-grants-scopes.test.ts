import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { listAttentionGrants, type AttentionGrant } from "../../../lib/grants/list-attention-grants.js";
import { HOUR_MS } from "../../../lib/clock.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function list(w: World): Promise<AttentionGrant[]> {
  const out: AttentionGrant[] = [];
  for await (const g of listAttentionGrants(w.deps())) out.push(g);
  return out;
}

describe("watchdog grants: scopes added to the connector after users signed in (seed 003)", () => {
  it("lists grants lacking a new connector scope until their user signs in again", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 120 } });
    const w = world;
    expect(await list(w)).toEqual([]);

    w.sim.tenant.nylas.connector!.scope.push("OnlineMeetings.ReadWrite");
    const behind = await list(w);
    expect(behind).toHaveLength(3);
    for (const g of behind) {
      expect(g.reason).toBe("missing-scopes");
      expect(g.missingScopes).toEqual(["OnlineMeetings.ReadWrite"]);
      expect(g.reauthUrl).toContain("login_hint=");
    }

    w.clock.advance(HOUR_MS);
    await w.sim.nylas.signIn(behind[0]!.email!);
    expect((await list(w)).map((g) => g.grantId)).not.toContain(behind[0]!.grantId);
  });
});
