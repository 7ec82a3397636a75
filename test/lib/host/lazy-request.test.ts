/**
 * `lazyHttpRequest` (what `watchdog serve` hands a handler) against the
 * HttpRequest built the documented way, `new HttpRequest({ method, url,
 * headers, body: { bytes } })`: every member a handler can read must give the
 * same answer, whichever is read first.
 */
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { lazyHttpRequest } from "../../../lib/host/lazy-request.js";

const URL_TEXT = "http://localhost/api/nylas/webhook?challenge=abc&x=1&x=2";
const HEADERS = { "content-type": "application/json", "x-nylas-signature": "ab12", "x-multi": "a, b" };

function both(method: string, body: Buffer | undefined): [HttpRequest, HttpRequest] {
  const url = new URL(URL_TEXT);
  const standard = new HttpRequest({
    method,
    url: url.toString(),
    headers: HEADERS,
    ...(body ? { body: { bytes: body } } : {}),
  });
  return [standard, lazyHttpRequest({ method, url, headers: HEADERS, body })];
}

/** What a handler can see without reading the body. */
function view(r: HttpRequest) {
  return {
    url: r.url,
    method: r.method,
    headers: [...r.headers],
    query: [...r.query],
    params: r.params,
    user: r.user,
    bodyUsed: r.bodyUsed,
    hasBody: r.body !== null,
  };
}

async function outcome(read: () => Promise<unknown>): Promise<unknown> {
  try {
    const value = await read();
    return value instanceof ArrayBuffer ? { bytes: [...new Uint8Array(value)] } : { value };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

const BODY = Buffer.from('\uFEFF{"type":"grant.expired","data":{"é":1}}');

describe("lazyHttpRequest", () => {
  it("is an HttpRequest with the same url, method, headers, query and params", () => {
    const [standard, lazy] = both("POST", BODY);
    expect(lazy).toBeInstanceOf(HttpRequest);
    expect(view(lazy)).toEqual(view(standard));
  });

  for (const read of ["arrayBuffer", "text", "json", "blob"] as const) {
    it(`${read}(): the same value, then the same refusal of a second read`, async () => {
      const [standard, lazy] = both("POST", BODY);
      const first = async (r: HttpRequest) => {
        const value: unknown = await r[read]();
        return value instanceof Blob ? { blob: await value.text(), type: value.type } : value;
      };
      expect(await outcome(() => first(lazy))).toEqual(await outcome(() => first(standard)));
      expect(lazy.bodyUsed).toBe(true);
      expect(view(lazy)).toEqual(view(standard));
      expect(await outcome(() => lazy.arrayBuffer())).toEqual(await outcome(() => standard.arrayBuffer()));
      expect(await outcome(() => lazy.text())).toEqual(await outcome(() => standard.text()));
    });
  }

  it("the body stream gives the same bytes, and reads after it are refused alike", async () => {
    const [standard, lazy] = both("POST", BODY);
    const drain = async (r: HttpRequest) => Buffer.from(await new Response(r.body).arrayBuffer()).toString();
    expect(await drain(lazy)).toBe(await drain(standard));
    expect(view(lazy)).toEqual(view(standard));
    expect(await outcome(() => lazy.json())).toEqual(await outcome(() => standard.json()));
  });

  it("a body read through arrayBuffer() leaves the stream as used as undici's", async () => {
    const [standard, lazy] = both("POST", BODY);
    await Promise.all([standard.arrayBuffer(), lazy.arrayBuffer()]);
    expect(lazy.body?.locked).toBe(standard.body?.locked);
    expect(await outcome(() => lazy.blob())).toEqual(await outcome(() => standard.blob()));
  });

  it("clone() reads the same bytes on both copies; after a read it is refused", async () => {
    const [standard, lazy] = both("POST", BODY);
    const copies = [lazy.clone(), standard.clone()];
    expect(copies[0]).toBeInstanceOf(HttpRequest);
    const texts = await Promise.all(copies.map((c) => c.text()));
    expect(texts[0]).toBe(texts[1]);
    expect(await lazy.text()).toBe(await standard.text());
    expect(await outcome(() => Promise.resolve().then(() => lazy.clone()))).toMatchObject({
      error: "TypeError",
    });
    expect(await outcome(() => Promise.resolve().then(() => standard.clone()))).toMatchObject({
      error: "TypeError",
    });
  });

  it("a GET has no body, reads as empty any number of times, and is never used", async () => {
    const [standard, lazy] = both("GET", undefined);
    expect(view(lazy)).toEqual(view(standard));
    for (let i = 0; i < 2; i++) {
      expect(await outcome(() => lazy.arrayBuffer())).toEqual(await outcome(() => standard.arrayBuffer()));
      expect(await outcome(() => lazy.text())).toEqual(await outcome(() => standard.text()));
    }
    expect(view(lazy)).toEqual(view(standard));
  });

  it("a POST with an empty body reads as the standard one does", async () => {
    const [standard, lazy] = both("POST", Buffer.alloc(0));
    expect(view(lazy)).toEqual(view(standard));
    expect(await outcome(() => lazy.json())).toEqual(await outcome(() => standard.json()));
    expect(view(lazy)).toEqual(view(standard));
  });

  it("keeps the request's headers object: a handler's change to it stays visible", () => {
    const [, lazy] = both("POST", BODY);
    lazy.headers.set("x-added", "1");
    void lazy.body;
    expect(lazy.headers.get("x-added")).toBe("1");
  });
});
