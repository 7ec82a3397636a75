#!/usr/bin/env node
/**
 * `npm run bundle`: the deployable Function App in `dist/deploy/`, which is
 * what `azd deploy` uploads (azure.yaml `dist`) and what `npm run bench`
 * measures for cold start.
 *
 *   dist/deploy/
 *     host.json
 *     package.json        type module, main "functions/*.js", no dependencies
 *     functions/<trigger>.js   one ESM entry per file in functions/
 *     chunks/*.js         shared code, and the SDKs each loaded on first use
 *
 * Why a bundle: the Functions host imports every file `main` matches at
 * start-up, so what they import statically is every cold start's price.
 * Bundled with code splitting, the static part is @azure/functions and our
 * own code (about 40 ms, against 120 ms unbundled); @azure/identity, the Graph
 * client, the Nylas SDK and @azure/data-tables stay in chunks behind the
 * `import()`s in lib/ and load only when a pass needs them. No node_modules
 * ship, so no remote build. docs/deploy.md, "Packaging", has the measurements.
 */
import { cpSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";
import { build } from "esbuild";
import { CREATE_REQUIRE, SHARED_OPTIONS } from "./esbuild-options.mjs";
import pkg from "../package.json" with { type: "json" };

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * Bundles into `outDir` (default dist/deploy, which it replaces) and writes
 * esbuild's metafile — which inputs went into which output file, for the
 * lazy-load test — beside it as `<outDir>-meta.json`, outside the package.
 * @param {string} [outDir]
 */
export async function bundle(outDir = resolve(ROOT, "dist/deploy")) {
  const entryPoints = readdirSync(`${ROOT}functions`)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => `${ROOT}functions/${name}`);
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints,
    outdir: outDir,
    entryNames: "functions/[name]",
    ...SHARED_OPTIONS,
    // The SDKs are CommonJS: their require() of node builtins and of @azure/functions-core needs a
    // real require in an ES module. The worker's interception patches Module.prototype.require,
    // which createRequire's function goes through.
    banner: { js: CREATE_REQUIRE },
  });
  writeFileSync(
    `${outDir}/package.json`,
    JSON.stringify(
      {
        name: pkg.name,
        version: pkg.version,
        private: true,
        description: pkg.description,
        license: pkg.license,
        type: "module",
        main: "functions/*.js",
        engines: pkg.engines,
      },
      null,
      2,
    ) + "\n",
  );
  cpSync(`${ROOT}host.json`, `${outDir}/host.json`);
  writeFileSync(`${outDir}-meta.json`, JSON.stringify(result.metafile));

  const outputs = Object.values(result.metafile.outputs);
  const bytes = outputs.reduce((sum, o) => sum + o.bytes, 0);
  process.stdout.write(
    `bundle: ${entryPoints.length} function entries, ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(ROOT, outDir) || outDir}\n`,
  );
}

// `node scripts/bundle.mjs [outDir]`
await bundle(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
