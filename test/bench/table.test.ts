import { describe, expect, it } from "vitest";
import {
  formatMarkdown,
  formatTable,
  formatValue,
  median,
  met,
  ratio,
  type Figure,
} from "../../bench/table.js";

const figure = (overrides: Partial<Figure>): Figure => ({
  name: "x",
  unit: "s",
  measured: 1.2,
  floor: 1,
  goal: { kind: "ratio-max", value: 1.3 },
  ...overrides,
});

describe("a figure against its goal", () => {
  it("divides the measured value by the floor", () => {
    expect(ratio(figure({ measured: 3, floor: 2 }))).toBe(1.5);
    expect(ratio(figure({ floor: null }))).toBeNull();
    expect(ratio(figure({ floor: 0 }))).toBeNull();
  });

  it("an event never received (Infinity) has no ratio, prints as never, and misses a ceiling", () => {
    expect(ratio(figure({ unit: "ms", measured: Infinity, floor: 40 }))).toBeNull();
    expect(ratio(figure({ unit: "ms", measured: 40, floor: Infinity }))).toBeNull();
    expect(formatValue(Infinity, "ms")).toBe("never");
    expect(met(figure({ unit: "ms", measured: Infinity, floor: 40 }))).toBe(false);
    expect(
      met(figure({ unit: "ms", measured: Infinity, floor: 40, goal: { kind: "max", value: 250 } })),
    ).toBe(false);
    expect(formatTable([figure({ unit: "ms", measured: Infinity, floor: Infinity })])).toContain(
      "| never    | never | —     |",
    );
  });

  it("meets a ratio ceiling at or under it, a ratio floor at or over it, a maximum at or under it", () => {
    expect(met(figure({ measured: 1.3, floor: 1 }))).toBe(true);
    expect(met(figure({ measured: 1.31, floor: 1 }))).toBe(false);
    expect(met(figure({ measured: 5, floor: 10, goal: { kind: "ratio-min", value: 0.5 } }))).toBe(true);
    expect(met(figure({ measured: 4.9, floor: 10, goal: { kind: "ratio-min", value: 0.5 } }))).toBe(false);
    expect(met(figure({ unit: "ms", measured: 150, floor: 370, goal: { kind: "max", value: 150 } }))).toBe(
      true,
    );
    expect(met(figure({ unit: "ms", measured: 151, floor: 370, goal: { kind: "max", value: 150 } }))).toBe(
      false,
    );
  });

  it("meets a minimum at or over it, floor or none, and prints it with ≥", () => {
    const min = (measured: number) =>
      figure({ unit: "req/s", measured, floor: null, goal: { kind: "min", value: 200 } });
    expect(met(min(200))).toBe(true);
    expect(met(min(89))).toBe(false);
    expect(formatTable([min(89)])).toContain("≥ 200 req/s");
    expect(formatTable([figure({ unit: "writes/s", measured: 2318.4, floor: null, goal: null })])).toContain(
      "2,318 writes/s",
    );
  });

  it("has no verdict without a goal, or without a floor for a ratio goal", () => {
    expect(met(figure({ goal: null }))).toBeNull();
    expect(met(figure({ floor: null }))).toBeNull();
  });
});

describe("the table", () => {
  const figures: Figure[] = [
    figure({ name: "scan, 50k apps: time", measured: 0.9, floor: 0.6 }),
    figure({
      name: "serve (req/s)",
      unit: "req/s",
      measured: 4000,
      floor: 16000,
      goal: { kind: "ratio-min", value: 0.5 },
    }),
    figure({ name: "cold start", unit: "ms", measured: 38.2, floor: 362, goal: { kind: "max", value: 150 } }),
    figure({ name: "p99", unit: "ms", measured: 8, floor: 1, goal: null }),
  ];

  it("prints figure | measured | floor | ratio | goal | met? with aligned columns", () => {
    const lines = formatTable(figures).split("\n");
    expect(lines[0]).toMatch(/^figure +\| measured +\| floor +\| ratio +\| goal +\| met\?$/);
    expect(lines).toHaveLength(2 + figures.length);
    // Every column starts at the same place on every line.
    const bars = (l: string) => [...l].flatMap((c, i) => (c === "|" ? [i] : []));
    for (const l of lines.filter((_, i) => i !== 1)) expect(bars(l)).toEqual(bars(lines[0]!));
    expect(lines[2]).toMatch(
      /scan, 50k apps: time +\| 0\.90 s +\| 0\.60 s +\| 1\.50× \| ≤ 1\.3× floor +\| NO/,
    );
    expect(lines[3]).toMatch(/4,000 req\/s +\| 16,000 req\/s \| 0\.25× \| ≥ 0\.5× floor +\| NO/);
    expect(lines[4]).toMatch(/38\.2 ms +\| 362 ms +\| 0\.11× \| ≤ 150 ms +\| yes/);
    expect(lines[5]).toMatch(/\| — +\| —$/);
  });

  it("renders the same rows as Markdown", () => {
    const md = formatMarkdown(figures).split("\n");
    expect(md[0]).toBe("| figure | measured | floor | ratio | goal | met? |");
    expect(md[1]).toBe("| --- | --- | --- | --- | --- | --- |");
    expect(md[4]).toBe("| cold start | 38.2 ms | 362 ms | 0.11× | ≤ 150 ms | yes |");
  });
});

describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe("values", () => {
  it("prints a whole-millisecond latency of 0 as under one millisecond", () => {
    expect(formatValue(0, "ms")).toBe("< 1 ms");
    expect(formatValue(4, "ms")).toBe("4.0 ms");
    expect(formatValue(233.4, "ms")).toBe("233 ms");
  });

  it("prints CPU per request in whole microseconds", () => {
    expect(formatValue(53.6, "µs")).toBe("54 µs");
    expect(formatValue(121.2, "µs")).toBe("121 µs");
  });
});
