/**
 * What the two bundles (the Function App, scripts/bundle.mjs; the CLI, scripts/bundle-cli.mjs)
 * share: one ES module graph for Node 22, split at every `import()` so each SDK loads on first use.
 */

import { URL, fileURLToPath } from "node:url";

/** The `require` the CommonJS SDKs need inside an ES module (node builtins, @azure/functions-core). */
export const CREATE_REQUIRE =
  'import { createRequire as __watchdogCreateRequire } from "node:module"; const require = __watchdogCreateRequire(import.meta.url);';

/**
 * A plugin that answers one import, made from inside one package, with a module of our own (ES
 * module source, resolved from the repository root). Both uses below trim what a package loads.
 * @param {string} name
 * @param {RegExp} specifier what the package's code imports
 * @param {string} importerPackage the package whose import this answers (no other)
 * @param {string} contents the module that answers it
 * @returns {import("esbuild").Plugin}
 */
function answerImport(name, specifier, importerPackage, contents) {
  const inPackage = new RegExp(`[\\\\/]node_modules[\\\\/]${importerPackage}[\\\\/]`);
  return {
    name,
    setup(build) {
      build.onResolve({ filter: specifier }, (args) =>
        inPackage.test(args.importer) ? { path: name, namespace: name } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: name }, () => ({
        contents,
        resolveDir: fileURLToPath(new URL("../", import.meta.url)),
        loader: "js",
      }));
    },
  };
}

/**
 * zod re-exports all of its ~60 error-message locales as `z.locales`, a namespace esbuild cannot
 * tree-shake: 297 KB of the 515 KB chunk every validating command loaded (dist/cli-meta.json,
 * 2026-12-01). This product never calls `z.locales`; zod registers English by importing
 * `locales/en.js` directly, which this leaves alone. So the namespace keeps English only.
 */
const zodEnglishOnly = answerImport(
  "zod-english-only",
  /^\.\.\/locales\/index\.js$/,
  "zod",
  'export { default as en } from "zod/v4/locales/en.js";',
);

/**
 * Nylas's SDK imports `mime-types` at the top of its utils for one helper, `createFileRequestBuilder`
 * (an attachment's content type from its file name), which this product never calls. mime-types is
 * CommonJS, so esbuild must keep it and run it at import: it builds maps of mime-db's 2,500 types,
 * about 28 ms of every command that reads the connector (the Nylas chunk imported in 51 ms with it,
 * 23 ms without; `scan`'s profile, 2026-12-01). In its place, an ES module of the same four
 * functions that require mime-types when called: esbuild drops it while nothing calls them, and a
 * bundle that does reach the helper gets mime-types, run on first use (test/infra/cli-bundle).
 */
const mimeTypesOnFirstUse = answerImport(
  "mime-types-on-first-use",
  /^mime-types$/,
  "nylas",
  [
    'const real = () => require("mime-types");',
    "export const lookup = (path) => real().lookup(path);",
    "export const contentType = (type) => real().contentType(type);",
    "export const extension = (type) => real().extension(type);",
    "export const charset = (type) => real().charset(type);",
  ].join("\n"),
);

/** @type {import("esbuild").BuildOptions & { metafile: true }} */
export const SHARED_OPTIONS = {
  plugins: [zodEnglishOnly, mimeTypesOnFirstUse],
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
