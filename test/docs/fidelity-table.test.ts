/**
 * docs/simulator-fidelity.md and the tests keep each other honest: every row
 * of the fidelity table has an ID, a source and a verified/assumed verdict, is
 * named by at least one test, and every test's fidelity comment names a row
 * that exists.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const DOC = join(root, "docs", "simulator-fidelity.md");
const TESTS = join(root, "test");

const ID = /^[A-Z]\d+$/;

interface Row {
  id: string;
  section: string;
  line: number;
  cells: Record<string, string>;
  cellCount: number;
  columnCount: number;
}

/** The cells of one Markdown table line; `\|` inside a cell is not a separator. */
function cellsOf(line: string): string[] {
  const inner = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  return inner.split(/(?<!\\)\|/).map((c) => c.trim());
}

/** Every data row of every table in the document, keyed by its header's column names. */
function tableRows(markdown: string): Row[] {
  const lines = markdown.split("\n");
  const rows: Row[] = [];
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("#")) section = line.replace(/^#+\s*/, "");
    if (!line.startsWith("|") || !/^\|[\s:|-]+\|$/.test(lines[i + 1]?.trim() ?? "")) continue;
    const header = cellsOf(line);
    i += 2;
    for (; i < lines.length && lines[i]!.startsWith("|"); i++) {
      const values = cellsOf(lines[i]!);
      rows.push({
        id: values[0] ?? "",
        section,
        line: i + 1,
        cells: Object.fromEntries(header.map((name, n) => [name.toLowerCase(), values[n] ?? ""])),
        cellCount: values.length,
        columnCount: header.length,
      });
    }
    i--;
  }
  return rows;
}

/** Source files under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") out.push(...sourceFiles(path));
    } else if (/\.[cm]?[jt]s$/.test(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

interface Reference {
  id: string;
  where: string;
  /** The first line after the comment (and any comments stacked under it). */
  next: string;
}

/** Every ID named by a `fidelity:` line comment in the tests. */
function references(): Reference[] {
  const out: Reference[] = [];
  for (const file of sourceFiles(TESTS)) {
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, n) => {
      const match = /^\s*\/\/\s*fidelity:(.*)$/.exec(line);
      if (!match) return;
      let k = n + 1;
      while (k < lines.length && /^\s*\/\//.test(lines[k]!)) k++;
      const where = `${relative(root, file)}:${n + 1}`;
      for (const id of match[1]!.split(",").map((s) => s.trim()))
        out.push({ id, where, next: lines[k]?.trim() ?? "" });
    });
  }
  return out;
}

const rows = tableRows(readFileSync(DOC, "utf8"));
const refs = references();

describe("docs/simulator-fidelity.md", () => {
  it("has tables whose first column is a row ID", () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(Object.keys(row.cells)[0], `table in "${row.section}"`).toBe("id");
      expect(row.id, `line ${row.line}`).toMatch(ID);
      expect(row.cellCount, `line ${row.line} (${row.id}): cells vs. header columns`).toBe(row.columnCount);
    }
  });

  it("gives every row a unique ID", () => {
    const seen = new Map<string, number>();
    const duplicates: string[] = [];
    for (const row of rows) {
      const first = seen.get(row.id);
      if (first !== undefined) duplicates.push(`${row.id} on lines ${first} and ${row.line}`);
      else seen.set(row.id, row.line);
    }
    expect(duplicates).toEqual([]);
  });

  it("gives every row a source and says whether it is verified or assumed", () => {
    for (const row of rows) {
      const source = row.cells.source ?? "";
      const verdict = (row.cells["verified or assumed"] ?? "").toLowerCase();
      expect(source, `${row.id}: source`).not.toBe("");
      expect(verdict, `${row.id}: verified or assumed`).toMatch(/^(verified|assumed)\b/);
      // A row with no source cannot be verified.
      if (/^none\b/i.test(source)) expect(verdict, `${row.id}: no source, so assumed`).toMatch(/^assumed\b/);
    }
  });
});

describe("fidelity comments in the tests", () => {
  it("name every row of the table at least once", () => {
    const named = new Set(refs.map((r) => r.id));
    expect(rows.map((r) => r.id).filter((id) => !named.has(id))).toEqual([]);
  });

  it("name only rows that exist", () => {
    const ids = new Set(rows.map((r) => r.id));
    expect(refs.filter((r) => !ids.has(r.id)).map((r) => `${r.where}: "${r.id}"`)).toEqual([]);
  });

  it("stand right above an it( or describe(", () => {
    expect(refs.length).toBeGreaterThan(0);
    const misplaced = refs.filter((r) => !/^(it|describe|test)(\.\w+)*(<[^>]*>)?\(/.test(r.next));
    expect([...new Set(misplaced.map((r) => `${r.where}: followed by "${r.next}"`))]).toEqual([]);
  });
});
