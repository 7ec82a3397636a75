/** The alert-latency figure's percentiles: nearest rank, and an event never received counts against it. */
import { describe, expect, it } from "vitest";
import { percentile } from "../../bench/table.js";

describe("percentile", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose

  it("is the nearest-rank value: p50 of 1…100 is 50, p99 is 99, p100 the largest", () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it("an alert never received (Infinity) lands in the tail: two lost in a hundred make p99 Infinity", () => {
    const lost = [...hundred.slice(2), Infinity, Infinity];
    expect(percentile(lost, 0.5)).toBe(50);
    expect(percentile(lost, 0.99)).toBe(Infinity);
    expect(percentile([...hundred.slice(1), Infinity], 0.99)).toBe(99);
  });

  it("refuses an empty set rather than inventing a figure", () => {
    expect(() => percentile([], 0.5)).toThrow(RangeError);
  });
});
