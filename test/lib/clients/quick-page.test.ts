// The hand-written page check ahead of zod must never accept what zod refuses, and must build
// exactly what the zod path builds: compared here on every value of each field of a page.
import { describe, expect, it } from "vitest";
import { parsePage, quickPage, zodPage } from "../../../lib/clients/graph-schemas.js";
import { compareWithZod } from "../../helpers/differential.js";

const VALUES: unknown[] = [
  undefined,
  null,
  "",
  "https://graph.example/v1.0/applications?$skiptoken=x",
  0,
  true,
  {},
  [],
  [null],
  [{ id: "a" }, { id: "b" }],
  [1, "two", [3]],
  { 0: "not", length: 1 },
];

const BASES: unknown[] = [
  { value: [{ id: "a" }] },
  { value: [], "@odata.nextLink": "https://graph.example/next" },
  { "@odata.context": "https://graph.example/$metadata#applications", value: [{ id: "a" }], extra: 1 },
];

describe("quickPage", () => {
  it("agrees with zod on every value of each field, and on answers that are no page at all", () => {
    const tally = { quick: 0, zod: 0 };
    const inputs: unknown[] = [...VALUES, ...BASES];
    for (const base of BASES)
      for (const field of ["value", "@odata.nextLink", "@odata.context"])
        for (const value of VALUES) {
          const copy = structuredClone(base) as Record<string, unknown>;
          if (value === undefined) delete copy[field];
          else copy[field] = structuredClone(value);
          inputs.push(copy);
        }
    for (const raw of inputs) compareWithZod(raw, quickPage, (r) => zodPage(r, "test"), tally);
    // Both sides are exercised: the common shapes are read by hand, the rest left to zod.
    expect(tally.quick).toBeGreaterThan(20);
    expect(tally.zod).toBeGreaterThan(20);
  });

  it("leaves the refusal, and its wording, to zod", () => {
    expect(quickPage({ value: [], "@odata.nextLink": null })).toBeUndefined();
    expect(() => parsePage({ value: [], "@odata.nextLink": null }, "listing applications")).toThrow(
      /listing applications/,
    );
    expect(() => parsePage({ value: "x" }, "listing applications")).toThrow(/value/);
  });
});
