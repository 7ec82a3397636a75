import { describe, expect, it } from "vitest";
import { trimTrailingSlashes } from "../../../lib/util/trim-trailing-slashes.js";

describe("trimTrailingSlashes", () => {
  it.each([
    ["/api/nylas/webhook/", "/api/nylas/webhook"],
    ["/api/nylas/webhook///", "/api/nylas/webhook"],
    ["/api/health", "/api/health"],
    ["///", ""],
    ["", ""],
  ])("%s → %s", (input, output) => {
    expect(trimTrailingSlashes(input)).toBe(output);
  });

  it("handles a 1 MB run of slashes followed by a letter (the case that made the regex quadratic)", () => {
    const path = `${"/".repeat(1_000_000)}x`;
    expect(trimTrailingSlashes(path)).toBe(path);
  });
});
