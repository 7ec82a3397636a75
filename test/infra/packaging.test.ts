/**
 * Packaging (docs/deploy.md, "Packaging"): azd ships dist/deploy, the esbuild
 * bundle, built by a prepackage hook; nothing is built remotely. `.funcignore`
 * is checked with git's own ignore matching (azd and Core Tools both read it
 * with gitignore rules), applied both ways it can be: from the repository
 * root, and from inside dist/deploy.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

/** What `npm run bundle` puts in dist/deploy (names only; bundle.test.ts checks the real thing). */
const BUNDLE = [
  "host.json",
  "package.json",
  ...readdirSync(join(ROOT, "functions"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `functions/${f.replace(/\.ts$/, ".js")}`),
  "chunks/chunk-ABCDEF12.js",
  "chunks/src-ABCDEF12.js",
];

const scratch = mkdtempSync(join(tmpdir(), "watchdog-funcignore-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The paths of `files` that `.funcignore` excludes, by git's rules, in a throwaway repository. */
function ignored(files: readonly string[]): string[] {
  const dir = mkdtempSync(join(scratch, "repo-"));
  expect(spawnSync("git", ["init", "-q"], { cwd: dir }).status).toBe(0);
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), "");
  }
  // Last: the repository's own .gitignore is among the files.
  writeFileSync(join(dir, ".gitignore"), read(".funcignore"));
  const check = spawnSync("git", ["check-ignore", "--stdin"], {
    cwd: dir,
    input: files.join("\n"),
    encoding: "utf8",
  });
  // 0: some paths are ignored; 1: none is.
  expect([0, 1]).toContain(check.status);
  return check.stdout.split("\n").filter((line) => line !== "");
}

describe("azure.yaml: azd deploys the bundle", () => {
  const yaml = read("azure.yaml");
  const api = /^ {2}api:\n((?: {4}.*\n| *#.*\n)*)/m.exec(yaml)?.[1] ?? "";

  it("ships dist/deploy, with no remote build", () => {
    expect(api).toMatch(/^ {4}dist: dist\/deploy$/m);
    expect(api).toMatch(/^ {4}remoteBuild: false$/m);
  });

  it("builds it in a prepackage hook, on every platform", () => {
    expect(api).toMatch(/^ {4}hooks:\n {6}prepackage:\n/m);
    const runs = [...api.matchAll(/^ {10}run: (.+)$/gm)].map((m) => m[1]);
    expect(runs).toEqual(["npm run bundle", "npm run bundle"]);
    expect(api).toMatch(/^ {8}posix:\n {10}shell: sh\n/m);
    expect(api).toMatch(/^ {8}windows:\n {10}shell: pwsh\n/m);
  });
});

describe("package.json", () => {
  const pkg = JSON.parse(read("package.json")) as { main: string; scripts: Record<string, string> };

  it("points main at the bundle, and `npm run bundle` builds it", () => {
    expect(pkg.main).toBe("dist/deploy/functions/*.js");
    expect(pkg.scripts.bundle).toBe("node scripts/bundle.mjs");
  });

  it("benches what is deployed: `npm run bench` bundles first", () => {
    expect(pkg.scripts.bench).toMatch(/npm run bundle && node dist\/bench\/run\.js$/);
    // The scan figure's floor on the stack's SDKs is a bundle of its own (bench/harness.ts runs it).
    expect(pkg.scripts.bench).toContain("node scripts/bundle-bench.mjs &&");
  });

  it("builds an executable `watchdog` bin: tsc writes 0644, and npm never marks a package's own bins", () => {
    expect(pkg.scripts.build).toMatch(/&& node scripts\/chmod-bins\.mjs$/);
    const dir = join(scratch, "bins");
    mkdirSync(join(dir, "dist/bin"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ bin: { watchdog: "dist/bin/watchdog.js" } }));
    writeFileSync(join(dir, "dist/bin/watchdog.js"), "#!/usr/bin/env node\n", { mode: 0o644 });
    const run = spawnSync(process.execPath, [join(ROOT, "scripts/chmod-bins.mjs"), dir], {
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(statSync(join(dir, "dist/bin/watchdog.js")).mode & 0o777).toBe(0o755);
  });
});

describe(".funcignore", () => {
  it("from the repository root, lets through only host.json, package.json and dist/deploy", () => {
    // Committed files, plus what a working copy has besides: sources not committed yet, build output,
    // dependencies, local settings.
    const committed = spawnSync("git", ["ls-files", "--cached"], { cwd: ROOT, encoding: "utf8" })
      .stdout.split("\n")
      .filter((f) => f !== "");
    const files = [
      ...committed,
      "lib/new-module.ts",
      "functions/new-trigger.ts",
      "test/lib/new.test.ts",
      "bench/new.ts",
      "scripts/new.mjs",
      "node_modules/zod/package.json",
      "dist/lib/config.js",
      "dist/functions/health.js",
      "local.settings.json",
      ...BUNDLE.map((f) => `dist/deploy/${f}`),
    ];
    const excluded = new Set(ignored(files));
    const kept = files.filter((f) => !excluded.has(f)).sort();
    expect(kept).toEqual(["host.json", "package.json", ...BUNDLE.map((f) => `dist/deploy/${f}`)].sort());
  });

  it("from inside dist/deploy, removes nothing", () => {
    expect(ignored(BUNDLE)).toEqual([]);
  });
});

describe("docs/deploy.md", () => {
  it('explains the packaging in a section "Packaging"', () => {
    const section = /^## Packaging\n([\s\S]*?)(?=^## )/m.exec(read("docs/deploy.md"))?.[1] ?? "";
    expect(section).toContain("npm run bundle");
    expect(section).toContain("dist/deploy");
    expect(section).toMatch(/remoteBuild: false/);
  });
});
