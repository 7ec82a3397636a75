/**
 * Graph failures turned into the one HttpError, with what to do. A failure to
 * get the token for Graph is told apart (service "entra"): the credential
 * retries its own token calls, so Graph's retry must not repeat them. When that
 * failure is the watchdog's own identity refused or missing, it is a CredentialError
 * instead (credential-error.ts): a setting to fix, not a service to wait for.
 */
import { type CredentialError, HttpError, excerpt } from "../errors.js";
import type { Logger } from "../logger.js";
import { TOKEN_ERRORS, credentialErrorOf } from "./credential-error.js";
import { parseRetryAfter } from "./http.js";

interface RawGraphError {
  statusCode?: number;
  code?: string | null;
  requestId?: string | null;
  body?: string | null;
  message?: string;
  headers?: Headers;
}

const REMEDIATION: Record<number, string> = {
  401: " The Graph token was refused: check AZURE_TENANT_ID and the watchdog's credential (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or the managed identity).",
  403: " The watchdog's identity lacks permission: grant it the Microsoft Graph application permission Application.ReadWrite.OwnedBy and add it as an owner of the app registration (README, 'Graph permission'), or grant Application.ReadWrite.All.",
  429: " Graph is throttling this tenant; the call was retried. Try again later.",
};

/** The service's own words: Graph's `error.message` from a JSON body, else the client's message. */
function detailOf(e: RawGraphError, error: unknown): string {
  return excerpt(rawDetailOf(e, error));
}

function rawDetailOf(e: RawGraphError, error: unknown): string {
  const fallback = e.message || (typeof e.body === "string" ? e.body : String(error));
  if (typeof e.body !== "string") return fallback;
  try {
    const parsed = JSON.parse(e.body) as { error?: { message?: string } };
    return parsed.error?.message ?? fallback;
  } catch {
    // Not JSON: keep the client's message.
    return fallback;
  }
}

/** Turns a GraphError (or anything thrown by the Graph client) into an HttpError that says what to do. */
export function toGraphHttpError(error: unknown, what: string): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as RawGraphError;
  const detail = detailOf(e, error);
  if (TOKEN_ERRORS.has(e.code ?? "")) {
    return new HttpError(
      `graph: ${what} failed: no token for Graph (${e.code}): ${detail} Check AZURE_TENANT_ID and the watchdog's credential (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or the managed identity).`,
      { service: "entra", statusCode: 0, code: e.code ?? undefined, cause: error },
    );
  }
  const status = typeof e.statusCode === "number" && e.statusCode > 0 ? e.statusCode : 0;
  const remedy = REMEDIATION[status] ?? (status === 0 ? " Check that GRAPH_ENDPOINT is reachable." : "");
  return new HttpError(
    `graph: ${what} failed${status ? ` (${status}${e.code ? ` ${e.code}` : ""})` : ""}: ${detail}${remedy}`,
    {
      service: "graph",
      statusCode: status,
      code: e.code ?? undefined,
      requestId: e.requestId ?? undefined,
      body: typeof e.body === "string" ? e.body : undefined,
      retryAfterMs: parseRetryAfter(e.headers?.get?.("retry-after") ?? null, Date.now()),
      ambiguous: status === 0 || status >= 500,
      cause: error,
    },
  );
}

/**
 * What a failed Graph call throws: a CredentialError when the watchdog's own identity got no token
 * (the SDK's full text, a credential chain's every reason, goes to the debug log only), else the
 * HttpError above.
 */
export function graphFailure(error: unknown, what: string, logger: Logger): CredentialError | HttpError {
  const credential = credentialErrorOf(error);
  if (credential === undefined) return toGraphHttpError(error, what);
  logger.debug(`graph: ${what}: no token for the watchdog's own identity: ${credential.detail}`);
  return credential;
}
