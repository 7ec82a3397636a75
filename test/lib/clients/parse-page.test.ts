/**
 * parsePage checks a page's envelope by hand ahead of zod (lib/clients/graph-schemas.ts): for every
 * answer, the quick check must read it as zod does, or leave it to zod.
 */
import { describe, expect, it } from "vitest";
import { HttpError } from "../../../lib/errors.js";
import { parsePage, quickPage, zodPage } from "../../../lib/clients/graph-schemas.js";

const APPS = [{ appId: "a" }, { appId: "b", passwordCredentials: [] }];
const NEXT = "https://graph.microsoft.com/v1.0/applications?$skiptoken=abc";

const ANSWERS: unknown[] = [
  { value: [] },
  { value: APPS },
  { value: APPS, "@odata.nextLink": NEXT },
  { value: APPS, "@odata.nextLink": "" },
  { value: APPS, "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications" },
  { value: [null, 1, "x", [], {}] },
  { value: APPS, "@odata.nextLink": null },
  { value: APPS, "@odata.nextLink": 7 },
  { value: APPS, "@odata.nextLink": { href: NEXT } },
  { value: null },
  { value: {} },
  { value: "[]" },
  {},
  { "@odata.nextLink": NEXT },
  [],
  [APPS],
  null,
  undefined,
  "<html>sign in</html>",
  42,
  JSON.parse('{"value":[],"__proto__":{"x":1}}'),
];

/** What a reading gives: the page, or the error's message (no page). */
function outcome(read: () => unknown): unknown {
  try {
    return { page: read() };
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return { error: (error as Error).message };
  }
}

describe("parsePage", () => {
  it.each(ANSWERS.map((answer) => [JSON.stringify(answer) ?? String(answer), answer]))(
    "reads %s as zod alone does",
    (_name, answer) => {
      expect(outcome(() => parsePage(answer, "listing applications"))).toStrictEqual(
        outcome(() => zodPage(answer, "listing applications")),
      );
    },
  );

  it("takes the quick path for well-formed pages and leaves every malformed one to zod", () => {
    const quick = ANSWERS.filter((answer) => quickPage(answer) !== undefined);
    expect(quick).toHaveLength(7);
    for (const answer of quick) expect(() => zodPage(answer, "test")).not.toThrow();
  });

  it("keeps the next link and nothing else of the envelope", () => {
    expect(parsePage({ value: APPS, "@odata.nextLink": NEXT, "@odata.context": "x" }, "t")).toStrictEqual({
      value: APPS,
      "@odata.nextLink": NEXT,
    });
  });
});
