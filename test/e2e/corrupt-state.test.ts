// A record the store cannot read is quarantined; the pass says so on-call (state.corrupt), more
// loudly when the rotation's own records are hit, and resolves once quarantine is empty again.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runWatchdogPass } from "../../lib/watchdog-pass.js";
import { sweepGrants } from "../../lib/grants/grant-passes.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

function corrupt(world: World, collection: string, key: string): void {
  mkdirSync(path.join(world.stateDir, collection), { recursive: true });
  writeFileSync(path.join(world.stateDir, collection, `${key}.json`), '{"value": {"cut short by a cra');
}

const corruptIncident = async (world: World) =>
  (await world.incidents()).find((i) => i.key === "state.corrupt");

describe("corrupt state", () => {
  it("a corrupt event no longer stops the sweep; the next pass opens state.corrupt as a warning, then resolves it", async () => {
    w = await startWorld({ host: false });
    corrupt(w, "events", "evt-1");
    // The sweep lists every event (its purge): it meets the corrupt one, moves it aside and goes on.
    await sweepGrants(w.deps);
    const first = await runWatchdogPass(w.deps);
    expect(first.scan.apps).toBeGreaterThan(0);
    const incident = await corruptIncident(w);
    expect(incident).toMatchObject({ severity: "warning", status: "firing" });
    expect(incident!.summary).toContain("(events)");

    const store = await w.deps.store();
    for await (const item of store.list("quarantine")) await store.delete("quarantine", item.key);
    await runWatchdogPass(w.deps);
    expect(await corruptIncident(w)).toMatchObject({ status: "resolved" });
  });

  it("a corrupt rotation record is critical: the watchdog may no longer know a secret it made", async () => {
    w = await startWorld({ host: false });
    corrupt(w, "rotation", "key-0000");
    await runWatchdogPass(w.deps);
    const incident = await corruptIncident(w);
    expect(incident).toMatchObject({ severity: "critical", status: "firing" });
    expect(incident!.remediation.join(" ")).toContain("never removes a secret it has no record of");
  });
});
