/**
 * A service's answer checked against the shape this product reads, at the
 * client boundary. A 200 carrying an HTML login page, `{}`, a null where a
 * list belongs or a date that is not a date must never read as "no secrets"
 * or "never expires": it becomes the one HttpError (service named, so the CLI
 * exits 3), never a silent "ok" and never a TypeError deep in a caller.
 */
// zod/mini: the same validators as `zod` with a fraction of its cold-start cost (bench/RESULTS.md).
import * as z from "zod/mini";
import { HttpError, type Service } from "../errors.js";
import { isDateText } from "../util/json-guards.js";

// zod/mini registers no messages of its own: without English, a null where a list belongs reads
// "Invalid input" instead of "Invalid input: expected array, received null". (The bundles keep
// English alone, scripts/esbuild-options.mjs.)
z.config(z.locales.en());

/** `HttpError.code` of an answer that arrived (2xx) but is not what the service documents. */
export const MALFORMED = "MalformedResponse";

/** An ISO 8601 date-time that `Date.parse` reads: a garbage date must not count as "never expires". */
export const IsoDate = z.string().check(z.refine(isDateText, "not a parseable ISO 8601 date-time"));

const REMEDY: Partial<Record<Service, string>> = {
  graph:
    " Nothing was concluded from it. If it persists, check GRAPH_ENDPOINT is Microsoft Graph itself (not a proxy or sign-in page) and look up the request in the tenant's Graph activity.",
  nylas:
    " Nothing was concluded from it. If it persists, check NYLAS_API_URI is your application's Nylas API region (not a proxy) and contact Nylas support with the request id.",
};

/** Where and what: `passwordCredentials.0.endDateTime: not a parseable ISO 8601 date-time`. Never a value. */
function describe(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(body)"}: ${i.message}`)
    .join("; ");
}

/** The HttpError for an answer that arrived but cannot be trusted. */
export function malformedAnswer(
  service: Service,
  what: string,
  problem: string,
  requestId?: string,
): HttpError {
  return new HttpError(
    `${service}: ${what}: the answer is not what ${service === "graph" ? "Graph" : "Nylas"} documents (${problem}).${REMEDY[service] ?? ""}`,
    { service, statusCode: 200, code: MALFORMED, requestId },
  );
}

/** The answer as `schema` reads it, or the HttpError saying which field was wrong. */
export function parseAnswer<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  service: Service,
  what: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw malformedAnswer(service, what, describe(result.error));
  return result.data;
}
