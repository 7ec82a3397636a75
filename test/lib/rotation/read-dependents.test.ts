/**
 * A grant read decides "nobody depends on it" (and so removal) only when it saw
 * everything and nothing contradicts it.
 */
import { describe, expect, it } from "vitest";
import type { Logger } from "../../../lib/logger.js";
import { MigrationTracker } from "../../../lib/rotation/migrate.js";
import { readIsDecisive, type GrantRead } from "../../../lib/rotation/read-dependents.js";

function read(validGrants: number, complete = true): GrantRead {
  return { tracker: new MigrationTracker([], []), dependents: [], validGrants, complete };
}

function logger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const none = () => undefined;
  return { warnings, debug: none, info: none, error: none, warn: (m: string) => void warnings.push(m) };
}

describe("readIsDecisive", () => {
  it("trusts a complete read that nothing contradicts", () => {
    const log = logger();
    expect(readIsDecisive(read(3), { previousValidGrants: 5, appReadContradicts: false }, log)).toBe(true);
    expect(readIsDecisive(read(0), { previousValidGrants: 0, appReadContradicts: false }, log)).toBe(true);
    expect(readIsDecisive(read(0), { previousValidGrants: null, appReadContradicts: false }, log)).toBe(true);
    expect(log.warnings).toEqual([]);
  });

  it("does not trust a read cut short, nor one beside an app read that contradicted the records", () => {
    const log = logger();
    expect(readIsDecisive(read(3, false), { previousValidGrants: 3, appReadContradicts: false }, log)).toBe(
      false,
    );
    expect(readIsDecisive(read(3), { previousValidGrants: 3, appReadContradicts: true }, log)).toBe(false);
  });

  it("does not trust every grant gone at once, and says so", () => {
    const log = logger();
    expect(readIsDecisive(read(0), { previousValidGrants: 7, appReadContradicts: false }, log)).toBe(false);
    expect(log.warnings).toEqual([
      "migration: Nylas listed no valid grant where the previous pass read 7; nothing is decided on this read.",
    ]);
  });
});
