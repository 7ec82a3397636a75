/**
 * What the two bundles (the Function App, scripts/bundle.mjs; the CLI, scripts/bundle-cli.mjs)
 * share: one ES module graph for Node 22, split at every `import()` so each SDK loads on first use.
 */

import { URL, fileURLToPath } from "node:url";

/** The `require` the CommonJS SDKs need inside an ES module (node builtins, @azure/functions-core). */
export const CREATE_REQUIRE =
  'import { createRequire as __watchdogCreateRequire } from "node:module"; const require = __watchdogCreateRequire(import.meta.url);';

/**
 * zod re-exports all of its ~60 error-message locales as `z.locales`, a namespace esbuild cannot
 * tree-shake: 297 KB of the 515 KB chunk every validating command loaded (dist/cli-meta.json,
 * 2026-12-01). This product never calls `z.locales`; zod registers English by importing
 * `locales/en.js` directly, which this leaves alone. So the namespace keeps English only.
 * @type {import("esbuild").Plugin}
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: "zod-locales-english-only", namespace: "zod-english-only" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-english-only" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: fileURLToPath(new URL("../", import.meta.url)),
      loader: "js",
    }));
  },
};

/** @type {import("esbuild").BuildOptions} */
export const SHARED_OPTIONS = {
  plugins: [zodEnglishOnly],
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
