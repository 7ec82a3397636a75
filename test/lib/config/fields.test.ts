// A setting's schema is built on first use: a process builds only the schemas of the settings it
// was given. Unset, a setting reads as its fallback, which is what its schema answers for undefined.
import { describe, expect, it, vi } from "vitest";
import * as z from "zod/mini";
import { setting } from "../../../lib/config/fields.js";

describe("setting", () => {
  it("builds its schema only when a value is given, and once", () => {
    const build = vi.fn(() => z._default(z.pipe(z.string(), z.transform(Number)), 7));
    const days = setting(build, { fallback: () => 7 });
    expect(days.parse(undefined)).toBe(7);
    expect(days.parse("   ")).toBe(7);
    expect(build).not.toHaveBeenCalled();
    expect(days.parse("12")).toBe(12);
    expect(days.parse("13")).toBe(13);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it("still asks the schema of a required setting when it is unset, for its problem", () => {
    const build = vi.fn(() => z.string({ error: "is not set." }));
    const key = setting(build, { fallback: () => "", fix: "Set it.", required: true });
    const result = key.safeParse(undefined);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual(["is not set."]);
    expect(build).toHaveBeenCalledTimes(1);
  });
});
