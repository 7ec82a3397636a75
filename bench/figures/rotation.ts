/** One rotating watchdog pass against the simulator's propagation delay, beside D + proof. */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../../lib/config.js";
import { createDeps } from "../../lib/deps.js";
import { silentLogger } from "../../lib/logger.js";
import { PROOF_SPREAD_MS } from "../../lib/rotation/prove.js";
import { startSimulator } from "../../lib/sim/index.js";
import { runWatchdogPass } from "../../lib/watchdog-pass.js";
import { SIZES, log, scratch } from "../harness.js";
import type { Figure } from "../table.js";

export async function rotation(): Promise<Figure[]> {
  const delay = SIZES.propagationMs;
  log(`rotation: propagation delay ${delay / 1000} s, real clock`);
  const sim = await startSimulator({
    propagationDelayMs: delay,
    recordRequests: false,
    seed: { connectorSecretDaysLeft: 30 },
  });
  try {
    const deps = createDeps(
      loadConfig(sim.env({ WATCHDOG_STATE_DIR: mkdtempSync(join(scratch, "rotation-state-")) })),
      silentLogger,
    );
    const started = performance.now();
    const result = await runWatchdogPass(deps);
    const ms = performance.now() - started;
    if (result.rotation.decision !== "rotated") {
      throw new Error(`rotation did not happen: ${result.rotation.decision} (${result.rotation.reason})`);
    }
    await (await deps.store()).close?.();
    return [
      {
        name: `rotation: runWatchdogPass, propagation D = ${delay / 1000} s`,
        unit: "s",
        measured: ms / 1000,
        // The floor is D plus the proof itself: after Entra first accepts the secret, 3 accepted tokens in a
        // row over at least PROOF_SPREAD_MS (replicas can disagree), so no rotation can be faster.
        floor: (delay + PROOF_SPREAD_MS) / 1000,
        goal: {
          kind: "max",
          value: (delay + PROOF_SPREAD_MS) / 1000 + 5,
          label: `≤ D + proof + 5 s (${(delay + PROOF_SPREAD_MS) / 1000 + 5} s)`,
        },
        note: "one pass on a connector secret 30 days from expiry: scan, add, prove with Entra (3 tokens over 10 s), PATCH Nylas",
      },
    ];
  } finally {
    await sim.close();
  }
}
