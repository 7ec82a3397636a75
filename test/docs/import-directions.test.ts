/**
 * Keeps data walking one way (docs/architecture.md): a lib/ folder imports
 * only folders on its own floor or below, lib/ never imports functions/, the
 * simulator stands apart, and no two lib/ folders import each other.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** Floors, lowest first. A top-level file is its own unit, named without `.ts`. */
const FLOORS: readonly (readonly string[])[] = [
  ["util", "clock", "errors", "logger", "config"],
  ["clients", "state", "microsoft"],
  ["incidents", "watch"],
  ["rotation"],
  ["grants"],
  ["doctor"],
  ["ports", "deps", "runtime", "watchdog-pass", "health"],
  ["host", "cli", "sandbox"],
];
/** The simulator: imports only the ground floor (clock, logger…); only these faces may import it. */
const SIM = "sim";
const SIM_USERS = new Set(["sandbox", "cli"]);

function floorOf(unit: string): number {
  const floor = FLOORS.findIndex((units) => units.includes(unit));
  if (floor < 0) throw new Error(`lib/${unit} has no floor: add it to FLOORS and to docs/architecture.md`);
  return floor;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** `lib/rotation/rotate.ts` → `rotation`; `lib/deps.ts` → `deps`; outside lib/ → the top folder. */
function unitOf(file: string): string {
  const parts = relative(ROOT, file).split("/");
  if (parts[0] !== "lib") return parts[0]!;
  return parts.length === 2 ? parts[1]!.replace(/\.(ts|js)$/, "") : parts[1]!;
}

interface Edge {
  from: string;
  to: string;
  file: string;
  target: string;
}

function edges(): Edge[] {
  const found: Edge[] = [];
  for (const file of tsFiles(join(ROOT, "lib"))) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = resolve(dirname(file), match[1]!);
      found.push({ from: unitOf(file), to: unitOf(target), file: relative(ROOT, file), target: match[1]! });
    }
  }
  return found;
}

const all = edges();
const inLib = (unit: string) => FLOORS.some((units) => units.includes(unit)) || unit === SIM;
const between = all.filter((edge) => edge.from !== edge.to && inLib(edge.to));

describe("import directions", () => {
  it("finds the imports it checks", () => {
    // A broken parser would pass every rule below vacuously.
    expect(between.length).toBeGreaterThan(100);
    expect(between.some((e) => e.from === "rotation" && e.to === "clients")).toBe(true);
  });

  it("lib/ never imports functions/ or anything outside lib/", () => {
    const outside = all.filter(
      (e) => !relative(ROOT, resolve(ROOT, e.file, "..", e.target)).startsWith("lib"),
    );
    expect(outside.map((e) => `${e.file} → ${e.target}`)).toEqual([]);
  });

  it("the simulator imports only the ground floor, and only the sandbox and the CLI import it", () => {
    const wrong = between.filter(
      (e) => (e.from === SIM && floorOf(e.to) > 0) || (e.to === SIM && !SIM_USERS.has(e.from)),
    );
    expect(wrong.map((e) => `${e.file} → ${e.target}`)).toEqual([]);
  });

  it("no folder imports one on a higher floor", () => {
    const upward = between.filter((e) => e.from !== SIM && e.to !== SIM && floorOf(e.to) > floorOf(e.from));
    expect(upward.map((e) => `${e.file} → ${e.target}`)).toEqual([]);
  });

  it("no two lib/ units import each other, directly or through others", () => {
    const graph = new Map<string, Set<string>>();
    for (const e of between) graph.set(e.from, (graph.get(e.from) ?? new Set()).add(e.to));
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
      for (const next of graph.get(from) ?? []) {
        if (next === to) return true;
        if (!seen.has(next) && (seen.add(next), reaches(next, to, seen))) return true;
      }
      return false;
    };
    const cycles = [...graph.keys()].filter((unit) => reaches(unit, unit));
    expect(cycles).toEqual([]);
  });
});
