#!/usr/bin/env node
/**
 * The bench's floor on the stack's SDKs (bench/scan-floor-sdk.ts) as an esbuild bundle in
 * `dist/bench-sdk/`, built by `npm run bench` with the CLI's options: it loads @azure/identity and
 * the Graph SDK as the CLI's bundle does (the same trimmed imports), so the two compare like for like.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";
import { build } from "esbuild";
import { CREATE_REQUIRE, SHARED_OPTIONS } from "./esbuild-options.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// An output folder may be given (the test bundles into a scratch one).
const outDir = resolve(process.argv[2] ?? resolve(ROOT, "dist/bench-sdk"));

await build({
  ...SHARED_OPTIONS,
  entryPoints: [`${ROOT}bench/scan-floor-sdk.ts`],
  outdir: outDir,
  entryNames: "[name]",
  banner: { js: CREATE_REQUIRE },
});
writeFileSync(`${outDir}/package.json`, '{ "type": "module" }\n');
