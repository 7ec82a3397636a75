import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { runWatchdog } from "../../helpers/cli.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("watchdog sweep --json", () => {
  it("prints one JSON document with a versioned schema", async () => {
    world = await startWorld();
    const r = await runWatchdog(["sweep", "--json"], world.env);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { schema: string; grants: number };
    expect(doc.schema).toBe("secret-watchdog.sweep/v1");
    expect(doc.grants).toBe(3);
  });
});
