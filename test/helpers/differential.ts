/**
 * Comparing a hand-written fast check with the zod schema it stands in front of
 * (quick-application, quick-grant): the same inputs through both, the verdicts
 * tallied, and a small deterministic PRNG so random variants repeat run to run.
 */
import { expect } from "vitest";

export interface Tally {
  /** Inputs the quick check read itself. */
  quick: number;
  /** Inputs it left to zod. */
  zod: number;
}

/**
 * One input through both: when the quick check reads it, zod must accept it
 * too and build exactly the same value (`toStrictEqual`).
 */
export function compareWithZod<T>(
  raw: unknown,
  quick: (raw: unknown) => T | undefined,
  zod: (raw: unknown) => T,
  tally: Tally,
): void {
  const fast = quick(raw);
  let reference: T | "refused";
  try {
    reference = zod(raw);
  } catch {
    reference = "refused";
  }
  if (fast === undefined) {
    tally.zod++;
    return;
  }
  tally.quick++;
  expect(reference, JSON.stringify(raw)).not.toBe("refused");
  expect(fast, JSON.stringify(raw)).toStrictEqual(reference);
}

/** mulberry32: numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A picker over `next`: one item of a list. */
export function picker(next: () => number) {
  return <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
}
