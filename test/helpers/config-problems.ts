/** What loadConfig refuses, as a list: the config tests' one way to read a ConfigError. */
import { expect } from "vitest";
import { ConfigError, type ConfigProblem } from "../../lib/errors.js";
import { loadConfig } from "../../lib/config.js";

export const TENANT = "11111111-2222-3333-4444-555555555555";
/** The least a valid configuration holds. */
export const base = { NYLAS_API_KEY: "nyk_test_key_123", AZURE_TENANT_ID: TENANT };

export function problemsOf(env: Record<string, string>): ConfigProblem[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}
