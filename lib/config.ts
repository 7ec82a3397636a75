/**
 * The one reader of settings (`../shared/CONTRACT.md`, "Settings"). Validates
 * everything once and reports every problem with its fix in one ConfigError, so
 * a misconfigured deployment is fixed in one edit, not one restart per typo.
 * The rules live in lib/config/ (each setting's own check, then the cross-checks); this module is
 * what importers use.
 */
import { ConfigError } from "./errors.js";
import { readSettings } from "./config/settings.js";
import { toConfig } from "./config/to-config.js";
import type { Config, Env } from "./config/types.js";

export { DEFAULTS, SETTING_NAMES } from "./config/defaults.js";
export type { Config, Env, SinkConfig, StateConfig } from "./config/types.js";

/**
 * Reads and validates the settings. Throws ConfigError naming every problem.
 * `env` defaults to `process.env`; nothing else in the project reads it.
 */
export function loadConfig(env: Env = process.env): Config {
  const { settings, problems } = readSettings(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(settings);
}
