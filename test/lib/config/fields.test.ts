// A setting's schema is built on first use: a process builds only the schemas of the settings it
// was given. Unset, a setting reads as its fallback, which is what its schema answers for undefined.
import { describe, expect, it, vi } from "vitest";
import * as z from "zod/mini";
import { setting, type SettingProblem } from "../../../lib/config/fields.js";

describe("setting", () => {
  it("builds its schema only when a value is given, and once", () => {
    const build = vi.fn(() => z.pipe(z.string(), z.transform(Number)));
    const days = setting(build, { fallback: () => 7 });
    const problems: SettingProblem[] = [];
    expect(days.read(undefined, problems)).toBe(7);
    expect(days.read("   ", problems)).toBe(7);
    expect(build).not.toHaveBeenCalled();
    expect(days.read("12", problems)).toBe(12);
    expect(days.read("13", problems)).toBe(13);
    expect(build).toHaveBeenCalledTimes(1);
    expect(problems).toEqual([]);
  });

  it("still asks the schema of a required setting when it is unset, for its problem", () => {
    const build = vi.fn(() => z.string({ error: "is not set." }));
    const key = setting(build, { fallback: () => "", fix: "Set it.", required: true });
    const problems: SettingProblem[] = [];
    expect(key.read(undefined, problems)).toBe("");
    expect(problems).toEqual([{ problem: "is not set.", fix: "Set it." }]);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it("files a refused value's problem with its fix and reads as the fallback, never quoting the value", () => {
    const secretish = "not-a-number-s3cr3t";
    const days = setting(() => z.string().check(z.regex(/^\d+$/, { error: "is not a whole number." })), {
      fallback: () => "7",
      fix: "Use digits.",
    });
    const problems: SettingProblem[] = [];
    expect(days.read(` ${secretish} `, problems)).toBe("7");
    expect(problems).toEqual([{ problem: "is not a whole number.", fix: "Use digits." }]);
    expect(JSON.stringify(problems)).not.toContain(secretish);
  });

  it("refuses an unresolved Key Vault reference without asking the schema", () => {
    const build = vi.fn(() => z.string());
    const key = setting(build, { fallback: (raw) => raw });
    const problems: SettingProblem[] = [];
    const reference = "@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/nylas-key/)";
    expect(key.read(reference, problems)).toBe(reference);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.problem).toMatch(/^Key Vault reference not resolved/);
    expect(problems[0]?.problem).not.toContain("nylas-key");
    expect(build).not.toHaveBeenCalled();
  });
});
