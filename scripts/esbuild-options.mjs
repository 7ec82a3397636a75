/**
 * What the two bundles (the Function App, scripts/bundle.mjs; the CLI, scripts/bundle-cli.mjs)
 * share: one ES module graph for Node 22, split at every `import()` so each SDK loads on first use.
 */

import { dirname, join } from "node:path";
import { URL, fileURLToPath } from "node:url";

/** The `require` the CommonJS SDKs need inside an ES module (node builtins, @azure/functions-core). */
export const CREATE_REQUIRE =
  'import { createRequire as __watchdogCreateRequire } from "node:module"; const require = __watchdogCreateRequire(import.meta.url);';

/**
 * A plugin that answers one import, made from inside one package, with a module of our own (ES
 * module source). The uses below trim what a package loads. The module's own imports and
 * `require`s resolve from the importing file's folder, as the package's import would have (a
 * nested copy of a dependency stays the one the package gets), unless `fromRoot` says the
 * repository root.
 * @param {string} name
 * @param {RegExp} specifier what the package's code imports
 * @param {string} importerPackage the package whose import this answers (no other), e.g. "@scope/name"
 * @param {string} contents the module that answers it
 * @param {{ fromRoot?: boolean }} [options]
 * @returns {import("esbuild").Plugin}
 */
function answerImport(name, specifier, importerPackage, contents, options = {}) {
  const sep = "[\\\\/]";
  const inPackage = new RegExp(`${sep}node_modules${sep}${importerPackage.split("/").join(sep)}${sep}`);
  const root = fileURLToPath(new URL("../", import.meta.url));
  return {
    name,
    setup(build) {
      // The path is the importer's folder: the answer is one module per folder that imports it.
      // Only the package's own files: the answer's `require` of the real package (its importer is
      // the answer itself, a path inside the package) must resolve as usual, not to another answer.
      build.onResolve({ filter: specifier }, (args) =>
        args.namespace === "file" && inPackage.test(args.importer)
          ? { path: dirname(args.importer), namespace: name }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: name }, (args) => ({
        contents,
        resolveDir: options.fromRoot === true ? root : args.path,
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
  { fromRoot: true },
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

/**
 * MSAL imports `jsonwebtoken` at the top of `ClientAssertion`, for one call: signing the assertion
 * of a certificate credential (`jwt.sign`). A client secret and a managed identity never sign one.
 * jsonwebtoken is CommonJS, so it ran at import, with `jws`, `semver` (whose ranges it checks
 * against the Node version at load) and lodash's helpers: about 8 ms of every command that gets a
 * token (the SDK-import profile, 2026-12-01). In its place, the same three functions, which load it
 * on first call; it stays in the bundle (esbuild bundles the `require`), so a certificate
 * credential signs as before, in the Function App too (test/infra/cli-bundle).
 */
const jsonwebtokenOnFirstUse = answerImport(
  "jsonwebtoken-on-first-use",
  /^jsonwebtoken$/,
  "@azure/msal-node",
  [
    'const real = () => require("jsonwebtoken");',
    "export default {",
    "  sign: (...args) => real().sign(...args),",
    "  verify: (...args) => real().verify(...args),",
    "  decode: (...args) => real().decode(...args),",
    "};",
  ].join("\n"),
);

/**
 * The Azure SDKs' HTTP pipeline (@typespec/ts-http-runtime) imports both proxy agents at the top
 * of its proxy policy, and constructs one only when a proxy is set (HTTPS_PROXY, or the request's
 * proxy settings). With them came `agent-base` and `debug`, which reads the environment and picks
 * colours at load: about 4 ms of every command that gets a token (same profile). In their place,
 * classes of the same names whose constructors build the real agent on first use (same test).
 */
const proxyAgentsOnFirstUse = [
  ["https-proxy-agent", "HttpsProxyAgent"],
  ["http-proxy-agent", "HttpProxyAgent"],
].map(([pkg, cls]) =>
  answerImport(
    `${pkg}-on-first-use`,
    new RegExp(`^${pkg}$`),
    "@typespec/ts-http-runtime",
    // A constructor that returns an object gives `new` that object: the real agent.
    `export class ${cls} { constructor(...args) { const { ${cls}: Real } = require("${pkg}"); return new Real(...args); } }`,
  ),
);

/**
 * The Graph SDK ships an ES build beside its CommonJS one (`module` in its package.json), and the
 * CommonJS one is what Node, and so esbuild for `platform: "node"`, picks. CommonJS cannot be
 * tree-shaken: its index requires every module (batching, the large-file upload tasks, the chaos
 * handler), all run at import. The bundles take the ES build, and keep only what the product
 * uses. Bundles only: the ES build's files are ES modules in a CommonJS package, which Node
 * itself would refuse, so tsc's output (the tests) keeps the CommonJS build.
 */
const graphClientEsBuild = {
  name: "graph-client-es-build",
  /** @param {import("esbuild").PluginBuild} build */
  setup(build) {
    const entries = new Map([
      ["@microsoft/microsoft-graph-client", "lib/es/src/index.js"],
      [
        "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js",
        "lib/es/src/authentication/azureTokenCredentials/index.js",
      ],
    ]);
    build.onResolve({ filter: /^@microsoft\/microsoft-graph-client(\/|$)/ }, async (args) => {
      const file = entries.get(args.path);
      if (file === undefined) return undefined;
      const pkg = await build.resolve("@microsoft/microsoft-graph-client/package.json", {
        kind: args.kind,
        resolveDir: args.resolveDir,
      });
      if (pkg.errors.length > 0) return { errors: pkg.errors };
      return { path: join(dirname(pkg.path), file) };
    });
  },
};

/** @type {import("esbuild").BuildOptions & { metafile: true }} */
export const SHARED_OPTIONS = {
  plugins: [
    zodEnglishOnly,
    mimeTypesOnFirstUse,
    jsonwebtokenOnFirstUse,
    ...proxyAgentsOnFirstUse,
    graphClientEsBuild,
  ],
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
