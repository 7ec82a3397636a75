import { describe, expect, it } from "vitest";
import { runWatchdog } from "../../helpers/cli.js";

describe("watchdog serve --health-key", () => {
  it.each(["", "short-key"])(
    "refuses a key shorter than 16 characters (%j): it would open /api/health",
    async (key) => {
      const r = await runWatchdog(["serve", "--port", "0", "--health-key", key], {
        NYLAS_API_KEY: "nyk_test_key_123",
        AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--health-key must be at least 16 characters/);
    },
  );
});
