import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Every file under `dir` (recursively), relative path → content. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.set(path.relative(dir, full), readFileSync(full, "utf8"));
    }
  };
  walk(dir);
  return out;
}
