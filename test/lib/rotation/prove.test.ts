import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import { silentLogger } from "../../../lib/logger.js";
import { PROOF_SPREAD_MS, PROOF_STREAK, proveSecret } from "../../../lib/rotation/prove.js";
import type { SecretCheck } from "../../../lib/clients/entra-token.js";

const input = {
  tenantId: "t",
  clientId: "c",
  secret: "s",
  authorityHost: "https://login.example",
  graphEndpoint: "https://graph.example",
};
const ok: SecretCheck = { ok: true };
const refused = (aadsts: string, error = "invalid_client"): SecretCheck => ({
  ok: false,
  aadsts,
  error,
  message: `refused ${aadsts}`,
});

/** Entra answering the scripted checks in order (the last one repeats), on a manual clock. */
function entra(script: SecretCheck[]) {
  const clock = new ManualClock(new Date("2026-11-23T12:00:00Z"));
  const at: number[] = [];
  let i = 0;
  const checkSecret = () => {
    at.push(clock.now().getTime());
    return Promise.resolve(script[Math.min(i++, script.length - 1)]!);
  };
  return {
    clock,
    at,
    prove: (timeoutSeconds = 240) =>
      proveSecret(input, { clock, logger: silentLogger, checkSecret, timeoutSeconds }),
  };
}

describe("proveSecret", () => {
  it(`needs ${PROOF_STREAK} accepted tokens in a row over at least ${PROOF_SPREAD_MS / 1000} s`, async () => {
    const e = entra([ok]);
    const result = await e.prove();
    expect(result.ok).toBe(true);
    expect(e.at).toHaveLength(PROOF_STREAK);
    expect(e.at.at(-1)! - e.at[0]!).toBeGreaterThanOrEqual(PROOF_SPREAD_MS);
  });

  it("replicas that disagree (accepted, refused, accepted…) start the proof over, and it still succeeds", async () => {
    const e = entra([ok, refused("7000215"), ok, refused("7000215"), ok, ok, ok]);
    const result = await e.prove();
    expect(result.ok).toBe(true);
    expect(result.attempts).toBe(7);
  });

  it("AADSTS7000222 (expired) right after creation means not yet", async () => {
    const e = entra([refused("7000222"), refused("7000222"), ok]);
    expect((await e.prove()).ok).toBe(true);
  });

  it("any other refusal fails at once", async () => {
    const e = entra([refused("700016", "unauthorized_client")]);
    const result = await e.prove();
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(1);
    expect(result.lastError).toMatch(/700016/);
  });

  it("a secret that never propagates fails after PROPAGATION_TIMEOUT_SECONDS", async () => {
    const e = entra([refused("7000215")]);
    const result = await e.prove(60);
    expect(result.ok).toBe(false);
    expect(result.waitedMs).toBeGreaterThanOrEqual(60_000);
    expect(result.waitedMs).toBeLessThan(65_000);
    expect(result.lastError).toMatch(/PROPAGATION_TIMEOUT_SECONDS/);
  });
});
