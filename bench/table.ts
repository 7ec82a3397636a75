/**
 * A bench figure beside its floor, the ratio, and whether the goal is met;
 * printed as a table for the terminal and as Markdown for bench/RESULTS.md.
 */

export type Unit = "µs" | "ms" | "s" | "MiB" | "req/s" | "writes/s" | "writes" | "×";

export type Goal =
  /** measured / floor at most `value`. */
  | { kind: "ratio-max"; value: number }
  /** measured / floor at least `value`. */
  | { kind: "ratio-min"; value: number }
  /** measured at most `value` (in the figure's unit). `label` overrides the printed goal. */
  | { kind: "max"; value: number; label?: string }
  /** measured at least `value` (in the figure's unit). `label` overrides the printed goal. */
  | { kind: "min"; value: number; label?: string };

export interface Figure {
  name: string;
  unit: Unit;
  measured: number;
  /** What the least possible code takes for the same work; null when there is none to compare. */
  floor: number | null;
  /** Null: shown for information. */
  goal: Goal | null;
  /** How the figure was taken (runs, median, …). */
  note?: string;
}

export function ratio(figure: Figure): number | null {
  if (figure.floor === null || figure.floor === 0) return null;
  // An event that never arrived is measured as Infinity: no ratio means anything then.
  if (!Number.isFinite(figure.measured) || !Number.isFinite(figure.floor)) return null;
  return figure.measured / figure.floor;
}

/** True/false against the goal; null when the figure has none (or no floor for a ratio goal). */
export function met(figure: Figure): boolean | null {
  const goal = figure.goal;
  if (goal === null) return null;
  if (goal.kind === "max") return figure.measured <= goal.value;
  if (goal.kind === "min") return figure.measured >= goal.value;
  // Never arrived: no ratio, but a ceiling is missed all the same.
  if (goal.kind === "ratio-max" && figure.measured === Infinity) return false;
  const r = ratio(figure);
  if (r === null) return null;
  return goal.kind === "ratio-max" ? r <= goal.value : r >= goal.value;
}

export function formatValue(value: number, unit: Unit): string {
  // A latency percentile that falls on an event never received.
  if (value === Infinity) return "never";
  switch (unit) {
    case "µs":
      return `${Math.round(value)} µs`;
    case "ms":
      // autocannon reports latency in whole milliseconds: a 0 is "under one", not "none".
      if (value === 0) return "< 1 ms";
      return `${value < 100 ? value.toFixed(1) : Math.round(value)} ms`;
    case "s":
      return `${value.toFixed(2)} s`;
    case "MiB":
      return `${value.toFixed(1)} MiB`;
    case "req/s":
    case "writes/s":
      return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
    case "writes":
      return `${value.toFixed(1)} writes`;
    case "×":
      return `${value.toFixed(2)}×`;
  }
}

export function formatGoal(figure: Figure): string {
  const goal = figure.goal;
  if (goal === null) return "—";
  if (goal.kind === "ratio-max") return `≤ ${goal.value}× floor`;
  if (goal.kind === "ratio-min") return `≥ ${goal.value}× floor`;
  return goal.label ?? `${goal.kind === "min" ? "≥" : "≤"} ${formatValue(goal.value, figure.unit)}`;
}

function row(figure: Figure): string[] {
  const r = ratio(figure);
  const m = met(figure);
  return [
    figure.name,
    formatValue(figure.measured, figure.unit),
    figure.floor === null ? "—" : formatValue(figure.floor, figure.unit),
    r === null ? "—" : `${r.toFixed(2)}×`,
    formatGoal(figure),
    m === null ? "—" : m ? "yes" : "NO",
  ];
}

const HEADER = ["figure", "measured", "floor", "ratio", "goal", "met?"];

/** Aligned columns for a terminal. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = [HEADER, ...figures.map(row)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c + " ".repeat((widths[i] ?? 0) - [...c].length))
      .join(" | ")
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.slice(1).map(line)].join(
    "\n",
  );
}

/** A GitHub Markdown table. */
export function formatMarkdown(figures: readonly Figure[]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(HEADER), line(HEADER.map(() => "---")), ...figures.map((f) => line(row(f)))].join("\n");
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile; Infinity for an event that never arrived. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError("percentile of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
