/**
 * The opening of a child script that imports the project's TypeScript sources
 * directly, through Node's type stripping (Node ≥ 22.6): a resolve hook maps
 * the sources' `.js` import suffixes to their `.ts` files. Run the script with
 * `--experimental-strip-types --no-warnings`.
 */
export const TS_SOURCES_HOOK = `
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (/^\\.\\.?\\//.test(specifier) && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
      throw error;
    }
  },
});
`;

/** Node's arguments for such a script. */
export const TS_CHILD_FLAGS = ["--experimental-strip-types", "--no-warnings"];
