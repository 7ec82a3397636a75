/**
 * The application listing's pages (graph-pages.ts), through an injected GET: each app is read
 * when the caller reaches it, and a page that cannot be read app by app still throws as a whole,
 * before any of its apps is handed over.
 */
import { describe, expect, it } from "vitest";
import { MALFORMED } from "../../../lib/clients/answer.js";
import { readApplicationPages, type GraphGet } from "../../../lib/clients/graph-pages.js";
import { PASSWORD_SELECT } from "../../../lib/clients/graph-types.js";
import { HttpError } from "../../../lib/errors.js";

const app = (n: number) => ({
  id: `object-${n}`,
  appId: `app-${n}`,
  displayName: `App ${n}`,
  passwordCredentials: [],
});

/** Answers the listing with `pages` in turn, each linking to the next. */
function listing(pages: readonly unknown[][]): GraphGet {
  let served = 0;
  return () => {
    const value = pages[served];
    served += 1;
    return Promise.resolve(
      served < pages.length ? { value, "@odata.nextLink": `https://graph.test/next/${served}` } : { value },
    );
  };
}

describe("the application listing, page by page", () => {
  it("reads each app of a page when the caller reaches it, not before", async () => {
    // `displayName` is read when an app is checked: counted here.
    let checked = 0;
    const watched = (n: number) => {
      const { displayName, ...rest } = app(n);
      return Object.defineProperty(rest, "displayName", {
        enumerable: true,
        get: () => {
          checked += 1;
          return displayName;
        },
      });
    };
    const pages = readApplicationPages(listing([[watched(1), watched(2), watched(3)]]), PASSWORD_SELECT, 999);
    const first = await pages.next();
    expect(first.done).toBe(false);
    expect(checked).toBe(0);
    const reads = (first.value as Iterable<{ appId: string }>)[Symbol.iterator]();
    expect(reads.next().value).toMatchObject({ appId: "app-1" });
    expect(checked).toBe(1);
    expect([...{ [Symbol.iterator]: () => reads }].map((r) => r.appId)).toEqual(["app-2", "app-3"]);
    expect(checked).toBe(3);
    expect((await pages.next()).done).toBe(true);
  });

  it("still reports a malformed app by its appId and reads the rest of the page", async () => {
    const pages = readApplicationPages(
      listing([[app(1), { ...app(2), passwordCredentials: null }, app(3)]]),
      PASSWORD_SELECT,
      999,
    );
    const page = await pages.next();
    const reads = [...(page.value as Iterable<{ appId: string; app?: unknown; error?: HttpError }>)];
    expect(reads.map((r) => [r.appId, r.app !== undefined, r.error?.code])).toEqual([
      ["app-1", true, undefined],
      ["app-2", false, MALFORMED],
      ["app-3", true, undefined],
    ]);
  });

  it("throws for a page with an item that names no app, before any app of that page is handed over", async () => {
    const pages = readApplicationPages(
      listing([[app(1)], [app(2), { id: "nameless", displayName: "No appId" }, app(3)]]),
      PASSWORD_SELECT,
      999,
    );
    const first = await pages.next();
    expect([...(first.value as Iterable<{ appId: string }>)].map((r) => r.appId)).toEqual(["app-1"]);
    const second = pages.next();
    await expect(second).rejects.toBeInstanceOf(HttpError);
    await expect(second).rejects.toMatchObject({ code: MALFORMED });
  });
});
