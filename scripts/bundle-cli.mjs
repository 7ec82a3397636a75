#!/usr/bin/env node
/**
 * The `watchdog` CLI as an esbuild bundle in `dist/cli/` (package.json `bin`),
 * built by `npm run build`.
 *
 *   dist/cli/watchdog.js      the entry (its #! line comes from bin/watchdog.ts): argument parsing and the command table
 *   dist/cli/chunks/*.js      each command, and each SDK, loaded on first use
 *   dist/cli/**.js.map        source maps (stack traces name .ts lines under --verbose)
 *
 * Why: run from tsc's output, a 10k-app scan spent about 300 ms resolving and
 * loading modules before its first request. Bundled with code splitting, a
 * command loads only what its `import()`s reach: `--help` loads no SDK, `serve`
 * never loads Graph or @azure/identity, `scan` loads no Table or incident code.
 * bench/ measures the start-up and the scan as whole processes.
 */
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";
import { build } from "esbuild";
import { CREATE_REQUIRE, SHARED_OPTIONS } from "./esbuild-options.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * @param {string} [outDir]
 */
export async function bundleCli(outDir = resolve(ROOT, "dist/cli")) {
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints: [`${ROOT}bin/watchdog.ts`],
    outdir: outDir,
    entryNames: "[name]",
    ...SHARED_OPTIONS,
    // @peculiar/x509 (the simulator's certificates, a devDependency) loads as Node loads it: bundled,
    // its CommonJS build's exports come out undefined under esbuild's interop, and `watchdog sandbox`
    // (npm start) needs the development dependencies anyway.
    external: [...(SHARED_OPTIONS.external ?? []), "@peculiar/x509"],
    // Source maps cost only when asked for: stack traces are printed under --verbose alone.
    banner: {
      js: `${CREATE_REQUIRE}\nif (process.argv.includes("--verbose")) process.setSourceMapsEnabled(true);`,
    },
    sourcemap: "linked",
  });
  chmodSync(`${outDir}/watchdog.js`, 0o755);
  // ES modules wherever the folder is copied (the repository's package.json says so too).
  writeFileSync(`${outDir}/package.json`, '{ "type": "module" }\n');
  writeFileSync(`${outDir}-meta.json`, JSON.stringify(result.metafile));
  const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"));
  const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
  process.stdout.write(
    `bundle-cli: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(ROOT, outDir) || outDir}\n`,
  );
}

await bundleCli(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
