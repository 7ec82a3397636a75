/**
 * The one reader of settings (`../shared/CONTRACT.md`, "Settings"). Validates
 * everything once and reports every problem with its fix in one ConfigError, so
 * a misconfigured deployment is fixed in one edit, not one restart per typo.
 * The rules live in lib/config/ as zod schemas; this module is what importers use.
 */
import * as z from "zod/mini";
import { ConfigError, type ConfigProblem } from "./errors.js";
import { fixOf } from "./config/fields.js";
import { settingsSchema } from "./config/settings.js";
import { toConfig } from "./config/to-config.js";
import type { Config, Env } from "./config/types.js";

export { DEFAULTS, SETTING_NAMES } from "./config/defaults.js";
export type { Config, Env, SinkConfig, StateConfig } from "./config/types.js";

/** Zod runs this only on valid settings: a failed parse never reaches the grouping. */
const configSchema = z.pipe(settingsSchema, z.transform(toConfig));

/**
 * Reads and validates the settings. Throws ConfigError naming every problem.
 * `env` defaults to `process.env`; nothing else in the project reads it.
 */
export function loadConfig(env: Env = process.env): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const problems: ConfigProblem[] = result.error.issues.map((issue) => ({
    setting: String(issue.path[0]),
    problem: issue.message,
    fix: fixOf(issue) ?? "",
  }));
  throw new ConfigError(problems);
}
