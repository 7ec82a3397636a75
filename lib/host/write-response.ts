/**
 * Writes a Function's answer (`HttpResponseInit`) to a node:http response for
 * `watchdog serve`, byte for byte as `@azure/functions`' `HttpResponse` would
 * render it.
 */
import type { ServerResponse } from "node:http";
import azureFunctions, { type HttpResponseInit } from "@azure/functions";

/** What `HttpResponse` answers for a string body without a content type (undici's `Response` rule). */
const TEXT_CONTENT_TYPE = "text/plain;charset=UTF-8";

/**
 * Writes a handler's answer. The common shape — a string body (or none) with
 * plain headers — is written as it is: the same status, headers and bytes the
 * `HttpResponse` route produces, without building an undici `Response` and
 * reading it back. Everything else (jsonBody, streams, cookies, Headers
 * objects) goes through `HttpResponse`, so its rules apply unchanged.
 */
export async function writeResponse(res: ServerResponse, init: HttpResponseInit): Promise<void> {
  if (isPlain(init)) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
    // An empty string counts as no body, as it does for HttpResponse (it has no content type then).
    if (init.body && headers["content-type"] === undefined) {
      headers["content-type"] = TEXT_CONTENT_TYPE;
    }
    const body = init.body ?? "";
    headers["content-length"] = String(Buffer.byteLength(body));
    res.writeHead(init.status ?? 200, headers);
    res.end(body);
    return;
  }
  await writeViaHttpResponse(res, init);
}

/** The general route: what the Functions worker does with any handler result. */
export async function writeViaHttpResponse(res: ServerResponse, init: HttpResponseInit): Promise<void> {
  const response = new azureFunctions.HttpResponse(init);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  res.writeHead(response.status, { ...headers, "content-length": String(body.length) });
  res.end(body);
}

function isPlain(init: HttpResponseInit): init is HttpResponseInit & {
  body?: string;
  headers?: Record<string, string>;
} {
  const keys = Object.keys(init);
  return (
    keys.every((k) => k === "status" || k === "body" || k === "headers") &&
    (init.body === undefined || typeof init.body === "string") &&
    (init.headers === undefined ||
      (Object.getPrototypeOf(init.headers) === Object.prototype &&
        Object.values(init.headers).every((v) => typeof v === "string")))
  );
}
