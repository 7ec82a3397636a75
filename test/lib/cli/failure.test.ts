import { describe, expect, it } from "vitest";
import { InconsistentReadError } from "../../../lib/clients/nylas-types.js";
import { failureOf, failureText } from "../../../lib/cli/failure.js";

describe("failureOf", () => {
  it("a grant list that kept changing is Nylas's (exit 3, service.nylas), not an unexpected error with a stack", () => {
    const error = new InconsistentReadError("nylas: the grant list changed while it was read.");
    const failure = failureOf("run", error);
    expect(failure.exitCode).toBe(3);
    expect(failure.problems).toEqual([
      expect.objectContaining({ code: "service.nylas", message: error.message }),
    ]);
    const text = failureText("run", error, false);
    expect(text).toMatch(/^watchdog run: nylas: the grant list changed while it was read\. .*Run again/);
    expect(text).not.toMatch(/unexpected|--verbose|\n\s+at /);
  });

  it("anything else unforeseen stays 'unexpected', exit 3, the stack only under --verbose", () => {
    const error = new Error("boom");
    expect(failureOf("scan", error)).toMatchObject({ exitCode: 3, problems: [{ code: "unexpected" }] });
    const frame = error.stack!.split("\n")[1]!.trim();
    expect(failureText("scan", error, false)).not.toContain(frame);
    expect(failureText("scan", error, true)).toContain(frame);
  });
});
