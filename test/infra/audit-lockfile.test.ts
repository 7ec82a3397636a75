/**
 * `npm run audit` (scripts/audit-lockfile.mjs): the offline supply-chain check. The project's own
 * lockfile passes; a lockfile that takes a package from elsewhere than the registry, under another
 * name, without a sha512 hash, or with an install script nobody reviewed, fails with each problem
 * named.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCRIPT = join(ROOT, "scripts/audit-lockfile.mjs");
const scratch = mkdtempSync(join(tmpdir(), "watchdog-audit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SHA512 = `sha512-${"A".repeat(86)}==`;

function audit(dir: string) {
  const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: "utf8" });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

let n = 0;
function project(packages: Record<string, object>, manifest: object = {}): string {
  const dir = mkdtempSync(join(scratch, `p${++n}-`));
  const deps = { zod: "^4.0.0" };
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", dependencies: deps, ...manifest }));
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify({
      lockfileVersion: 3,
      packages: { "": { name: "p", dependencies: deps }, ...packages },
    }),
  );
  return dir;
}

describe("audit-lockfile", () => {
  it("passes the project's own lockfile and names the install scripts it reviewed", () => {
    const r = audit(ROOT);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit: \d+ packages, each from https:\/\/registry\.npmjs\.org\//);
    expect(r.stdout).toContain("esbuild (allowed)");
  });

  it("accepts registry tarballs, scoped and aliased, with or without a resolved URL", () => {
    const r = audit(
      project({
        "node_modules/zod": { version: "4.1.0", integrity: SHA512 },
        "node_modules/@azure/core-auth": {
          version: "1.10.1",
          resolved: "https://registry.npmjs.org/@azure/core-auth/-/core-auth-1.10.1.tgz",
          integrity: SHA512,
        },
        "node_modules/a/node_modules/old-zod": {
          name: "zod",
          version: "3.0.0",
          resolved: "https://registry.npmjs.org/zod/-/zod-3.0.0.tgz",
          integrity: SHA512,
        },
      }),
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("audit: 3 packages");
  });

  it("names every problem: foreign source, renamed tarball, weak or missing hash, link, unreviewed script, stale lockfile", () => {
    const r = audit(
      project(
        {
          "node_modules/from-git": {
            version: "1.0.0",
            resolved: "git+ssh://git@github.com/someone/from-git.git#abc",
            integrity: SHA512,
          },
          "node_modules/swapped": {
            version: "1.0.0",
            resolved: "https://registry.npmjs.org/evil/-/evil-1.0.0.tgz",
            integrity: SHA512,
          },
          "node_modules/weak": { version: "1.0.0", integrity: "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=" },
          "node_modules/unpinned": { version: "1.0.0" },
          "node_modules/linked": { resolved: "../elsewhere", link: true },
          "node_modules/postinstaller": { version: "1.0.0", integrity: SHA512, hasInstallScript: true },
          "node_modules/reviewed": { version: "1.0.0", integrity: SHA512, hasInstallScript: true },
        },
        { devDependencies: { vitest: "^5.0.0" }, allowScripts: { reviewed: false } },
      ),
    );
    expect(r.code).toBe(1);
    const problems = r.stderr.split("\n").filter((l) => l.startsWith("  - "));
    expect(problems).toEqual([
      "  - package.json's devDependencies has vitest@^5.0.0; the lockfile does not: run npm install.",
      "  - node_modules/from-git resolves to git+ssh://git@github.com/someone/from-git.git#abc, not from-git@1.0.0 on https://registry.npmjs.org/.",
      "  - node_modules/swapped resolves to https://registry.npmjs.org/evil/-/evil-1.0.0.tgz, not swapped@1.0.0 on https://registry.npmjs.org/.",
      "  - node_modules/weak is not pinned by a sha512 integrity hash (sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=).",
      "  - node_modules/unpinned is not pinned by a sha512 integrity hash (none).",
      "  - node_modules/linked is a link to ../elsewhere, not a registry package.",
      '  - postinstaller runs an install script nobody has reviewed: read it, then add "postinstaller": true (or false to deny it) to package.json\'s "allowScripts".',
    ]);
    expect(r.stderr).toMatch(/^audit: 7 problem\(s\) in package-lock\.json:/);
  });

  it("refuses a lockfile too old to list packages by path", () => {
    const dir = mkdtempSync(join(scratch, "old-"));
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ lockfileVersion: 1, dependencies: {} }));
    const r = audit(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("predates lockfileVersion 2");
  });
});
