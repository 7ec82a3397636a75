/**
 * `watchdog run` as a user runs it: exit codes, the plan of --dry-run, and
 * nothing secret on stdout or stderr — not even with --verbose and --json.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { runWatchdog } from "../../helpers/cli.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe("watchdog run", () => {
  it(
    "--dry-run prints the plan and exits 0 with nothing changed; a real run rotates; no secret is ever printed",
    { timeout: 90_000 },
    async () => {
      world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
      const w = world;
      const app = w.sim.tenant.appByAppId(w.sim.nylasApp!.appId)!;
      app.signInAudience = "AzureADMultipleOrgs";

      const dry = await runWatchdog(["run", "--dry-run"], w.env);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/DRY RUN — nothing was changed/);
      expect(dry.stdout).toMatch(/Plan:\n {2}- rotate the connector's secret/);
      expect(app.passwordCredentials).toHaveLength(1);

      const real = await runWatchdog(["run", "--json", "--verbose"], w.env);
      expect(real.code).toBe(0);
      const result = JSON.parse(real.stdout) as {
        schema: string;
        rotation: { decision: string };
        migration: { dependents: number };
      };
      expect(result.schema).toBe("secret-watchdog.run/v1");
      expect(result.rotation.decision).toBe("rotated");
      expect(result.migration.dependents).toBe(3);
      expect(app.passwordCredentials).toHaveLength(2);

      const forced = await runWatchdog(["run", "--force-rotate", "--verbose"], w.env);
      expect(forced.code).toBe(0);
      expect(forced.stdout).toMatch(/Rotation: rotated — rotated: --force-rotate/);

      const issued = app.passwordCredentials.map((p) => p.value);
      expect(issued.length).toBeGreaterThanOrEqual(3);
      const printed = [dry, real, forced].map((r) => r.stdout + r.stderr).join("\n");
      expect(printed).toMatch(/rotation r-\d{8}T\d{6}Z-[0-9a-f]{6}: created secret/);
      for (const secret of [...issued, w.env.NYLAS_API_KEY!, w.env.AZURE_CLIENT_SECRET!]) {
        expect(printed.includes(secret), `printed a secret (${secret.slice(0, 3)}…)`).toBe(false);
      }
    },
  );

  it("exits 3 when rotation fails, and says what to do", async () => {
    world = await startWorld({ seed: { connectorSecretDaysLeft: 30 } });
    const w = world;
    w.sim.tenant.addSecret(w.sim.nylasApp!.id, {
      displayName: "someone else's",
      endDateTime: new Date(Date.now() + 300 * 86_400_000),
    });
    const failed = await runWatchdog(["run"], w.env);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(/Rotation: failed/);
    expect(failed.stdout).toMatch(/what to do: In the Azure portal/);
  });
});
