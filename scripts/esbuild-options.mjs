/**
 * What the two bundles (the Function App, scripts/bundle.mjs; the CLI, scripts/bundle-cli.mjs)
 * share: one ES module graph for Node 22, split at every `import()` so each SDK loads on first use.
 */

/** The `require` the CommonJS SDKs need inside an ES module (node builtins, @azure/functions-core). */
export const CREATE_REQUIRE =
  'import { createRequire as __watchdogCreateRequire } from "node:module"; const require = __watchdogCreateRequire(import.meta.url);';

/** @type {import("esbuild").BuildOptions} */
export const SHARED_OPTIONS = {
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  // One copy of every module across the entries (a second @azure/functions would register a
  // second programming model), and each `import()` in lib/ becomes a chunk loaded on first use.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // Provided by the Functions worker at run time (it intercepts require), never installed.
  external: ["@azure/functions-core"],
  // Whitespace and syntax only: identifiers keep their names, so stack traces still say which
  // function failed.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
};
