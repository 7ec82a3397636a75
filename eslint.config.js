// Type-aware linting: no-floating-promises catches the un-awaited call that
// would let a timer "succeed" while its work silently failed.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".watchdog/**", "infra/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["eslint.config.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    // Limits that keep a decision readable in one sitting (issue: "a house a newcomer can change
    // safely"). The simulator's files may be long (one file per simulated service), not its functions.
    files: ["lib/**", "functions/**", "bin/**", "bench/**"],
    rules: { complexity: ["error", 20] },
  },
  {
    files: ["lib/**"],
    ignores: ["lib/sim/**"],
    rules: { "max-lines": ["error", { max: 300, skipBlankLines: false, skipComments: false }] },
  },
  {
    // Classic zod cannot be tree-shaken: importing it anywhere the bundles reach loads its whole API
    // (the settings' chunk took 88 ms to import with it, 35 ms on zod/mini; bench/RESULTS.md).
    files: ["lib/**", "functions/**", "bin/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "zod",
              message: 'Import * as z from "zod/mini": classic zod loads its whole API into every bundle.',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI, the simulator's CLI face, benches and tests talk to a terminal on purpose.
    files: ["bin/**", "bench/**", "test/**", "lib/sandbox/**"],
    rules: { "no-console": "off" },
  },
  {
    files: ["test/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  prettier,
);
