/**
 * Table service failures as the product's one error type: an `HttpError` that
 * says what to check (connection string, key or SAS, firewall), and never
 * carries the SDK error, whose request URL can hold a SAS token.
 */
import { RestError } from "@azure/data-tables";
import { HttpError } from "../errors.js";
import type { Redactor } from "../redaction.js";

/** A service or network failure as an `HttpError` that says what to check; anything else unchanged. */
export function tableError(error: unknown, what: string, description: string, redactor: Redactor): unknown {
  if (!(error instanceof RestError)) return error;
  const rest = error;
  const statusCode = rest.statusCode ?? 0;
  const code = serviceCode(error);
  const headers = rest.response?.headers;
  const retryAfter = Number(headers?.get("retry-after"));
  const advice = adviceFor(statusCode);
  const reason = rest.message && statusCode === 0 ? ` (${firstLine(redact(redactor, rest.message))})` : "";
  return new HttpError(
    `State store ${description}: ${what} failed with ${statusCode === 0 ? "no response" : `HTTP ${statusCode}`}` +
      `${code === undefined ? "" : ` ${code}`}${reason}: ${advice}`,
    {
      service: "state",
      statusCode,
      code,
      requestId: headers?.get("x-ms-request-id") ?? undefined,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      ambiguous: statusCode === 0 || statusCode >= 500,
      // No `cause`: the SDK error carries the request, whose URL holds the SAS token of a SAS connection string.
    },
  );
}

/** What to check, by status (0: no answer at all). */
function adviceFor(statusCode: number): string {
  if (statusCode === 0) {
    return (
      "the Table service did not answer. Check the account name and endpoint in the AzureWebJobsStorage " +
      "connection string, DNS, and that the storage account's firewall (Networking) admits this app " +
      "(VNet integration or its outbound IPs)."
    );
  }
  if (statusCode === 401 || statusCode === 403) {
    return (
      "the Table service refused the request. Check the account key or SAS in AzureWebJobsStorage " +
      "(rotated key? expired SAS, or one without the Table service and read/write/delete/create " +
      "permissions?) and the storage account's firewall, which also answers 403."
    );
  }
  if (statusCode === 404) {
    return "the table or account was not found. Check the account in AzureWebJobsStorage and that the Table service is enabled.";
  }
  if (statusCode === 429 || statusCode >= 500) {
    return "the Table service is busy or failing; the next run retries. If it persists, check Azure status for the storage account.";
  }
  return "the Table service rejected the request. Check that AzureWebJobsStorage points at a general-purpose storage account with the Table service.";
}

/** Also a SAS signature the redactor was not told about (one in a request URL). */
function redact(redactor: Redactor, text: string): string {
  return redactor.redact(text).replace(/([?&]sig=)[^&\s]+/gi, "$1[REDACTED]");
}

export function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : undefined;
}

/** The service's error code (`TableNotFound`, `AuthorizationFailure`, …), or the network error's. */
export function serviceCode(error: unknown): string | undefined {
  if (!(error instanceof RestError)) return undefined;
  const header = error.response?.headers.get("x-ms-error-code");
  if (header) return header;
  // data-tables attaches the parsed OData error to the response at runtime.
  const response = error.response as { parsedBody?: { odataError?: { code?: unknown } } } | undefined;
  const body = response?.parsedBody;
  if (typeof body?.odataError?.code === "string") return body.odataError.code;
  return error.code;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}
