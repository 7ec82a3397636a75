/**
 * One place knows how long the host lets a pass run (lib/config/function-timeout.ts); host.json is
 * what the host actually reads. These keep the two, and PROPAGATION_TIMEOUT_SECONDS's ceiling, in step.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { base, problemsOf } from "../../helpers/config-problems.js";
import { loadConfig } from "../../../lib/config.js";
import {
  BEFORE_ROTATION_MS,
  FUNCTION_TIMEOUT_MS,
  MAX_PROPAGATION_TIMEOUT_SECONDS,
  PASS_BUDGET_MS,
  PASS_CLOSING_MARGIN_MS,
  ROTATION_OVERHEAD_MS,
} from "../../../lib/config/function-timeout.js";

/** host.json's "hh:mm:ss" (Functions also allows "d.hh:mm:ss"; this project does not use it). */
function hostTimeoutMs(): number {
  const host = JSON.parse(readFileSync(new URL("../../../host.json", import.meta.url), "utf8")) as {
    functionTimeout?: string;
  };
  const match = /^(\d{2}):(\d{2}):(\d{2})$/.exec(host.functionTimeout ?? "");
  if (match === null) throw new Error(`host.json functionTimeout "${host.functionTimeout}" is not hh:mm:ss`);
  const [h, m, s] = match.slice(1).map(Number) as [number, number, number];
  return ((h * 60 + m) * 60 + s) * 1000;
}

describe("the function timeout", () => {
  it("is host.json's functionTimeout", () => {
    expect(FUNCTION_TIMEOUT_MS).toBe(hostTimeoutMs());
  });

  it("leaves the pass a budget that ends before the host's kill, with room to close", () => {
    expect(PASS_BUDGET_MS).toBe(FUNCTION_TIMEOUT_MS - PASS_CLOSING_MARGIN_MS);
    expect(PASS_BUDGET_MS).toBeGreaterThan(0);
    // Alert delivery alone is budgeted 30 s after the work stops.
    expect(PASS_CLOSING_MARGIN_MS).toBeGreaterThan(30_000);
  });

  it("caps PROPAGATION_TIMEOUT_SECONDS so a full-length proof, and the rest of a rotation, fits in one pass", () => {
    expect(
      MAX_PROPAGATION_TIMEOUT_SECONDS * 1000 + ROTATION_OVERHEAD_MS + BEFORE_ROTATION_MS,
    ).toBeLessThanOrEqual(PASS_BUDGET_MS);
    expect(MAX_PROPAGATION_TIMEOUT_SECONDS * 1000).toBeLessThan(hostTimeoutMs());
    // The default (240 s) stays allowed.
    expect(loadConfig(base).rotation.propagationTimeoutSeconds).toBeLessThanOrEqual(
      MAX_PROPAGATION_TIMEOUT_SECONDS,
    );
  });

  it("accepts PROPAGATION_TIMEOUT_SECONDS up to the cap and refuses one past it, saying the range", () => {
    const max = String(MAX_PROPAGATION_TIMEOUT_SECONDS);
    expect(loadConfig({ ...base, PROPAGATION_TIMEOUT_SECONDS: max }).rotation.propagationTimeoutSeconds).toBe(
      MAX_PROPAGATION_TIMEOUT_SECONDS,
    );
    for (const value of [
      String(MAX_PROPAGATION_TIMEOUT_SECONDS + 1),
      String(hostTimeoutMs() / 1000),
      "3600",
    ]) {
      const problems = problemsOf({ ...base, PROPAGATION_TIMEOUT_SECONDS: value });
      expect(problems.map((p) => p.setting)).toEqual(["PROPAGATION_TIMEOUT_SECONDS"]);
      expect(problems[0]!.fix).toContain(`from 1 to ${max}`);
    }
  });
});
