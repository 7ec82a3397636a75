import type { IncomingMessage } from "node:http";

/**
 * A node:http request's headers as the plain record `HttpRequest` is built from: one string a
 * name, repeated ones joined with ", " as the Fetch standard combines them.
 */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers[name] = value;
    else if (Array.isArray(value)) headers[name] = value.join(", ");
  }
  return headers;
}
