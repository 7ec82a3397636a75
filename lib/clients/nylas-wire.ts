/**
 * Nylas's wire format turned into this product's shapes: list and envelope
 * bodies parsed as the SDK would (without its costly key renaming), the
 * connector (its secret dropped), webhooks, and errors with what to do.
 * Grants are checked in nylas-schemas.ts.
 */
import type NylasModule from "nylas";
import { HttpError, excerpt } from "../errors.js";
import { isRecord } from "../util/json-guards.js";
import { parseRetryAfter } from "./http.js";
import { parseAnswer } from "./answer.js";
import { wireConnector } from "./nylas-schemas.js";
import type { MicrosoftConnector, NylasWebhook } from "./nylas-types.js";

// The package's typings describe its CommonJS face (class under `.default`); at
// run time the ESM build's default export is the class itself. Accept both.
export type NylasCtor = typeof NylasModule.default;
export type NylasSdk = InstanceType<NylasCtor>;

/**
 * What the SDK's `request` and `fetchList` make of a list body, minus the
 * renaming: the same parse, the same error when it is not JSON, the same
 * unwrapping of a nested `{ data: { items } }` envelope.
 */
export function listData(body: Buffer): unknown {
  const text = body.toString("utf8");
  let parsed: { data?: unknown } | null;
  try {
    parsed = JSON.parse(text) as { data?: unknown } | null;
  } catch {
    throw new Error(`Could not parse response from the server: ${excerpt(text, 200)}`);
  }
  const data = parsed?.data;
  if (isRecord(data) && Array.isArray(data.items)) return data.items;
  return data;
}

/** The `data` of a `{request_id, data}` envelope. */
export function envelopeData(body: Buffer): unknown {
  const text = body.toString("utf8");
  try {
    return (JSON.parse(text) as { data?: unknown } | null)?.data;
  } catch {
    throw new Error(`Could not parse response from the server: ${excerpt(text, 200)}`);
  }
}

/** The connector's `data` checked first: a `{}`, a list or an HTML page is not "a connector without client_id". */
export function parseConnector(data: unknown, what: string): MicrosoftConnector {
  return toConnector(parseAnswer(wireConnector(), data, "nylas", what));
}

export function toConnector(data: unknown): MicrosoftConnector {
  const d = (data ?? {}) as {
    name?: unknown;
    settings?: unknown;
    scope?: unknown;
    active_credential_id?: unknown;
  };
  const settings = isRecord(d.settings) ? { ...d.settings } : {};
  delete settings.client_secret;
  const scope = Array.isArray(d.scope)
    ? d.scope.filter((x): x is string => typeof x === "string")
    : undefined;
  return {
    name: typeof d.name === "string" ? d.name : undefined,
    clientId: typeof settings.client_id === "string" ? settings.client_id : undefined,
    tenant: typeof settings.tenant === "string" ? settings.tenant : undefined,
    scope: scope ?? [],
    hasScope: scope !== undefined,
    settings,
    activeCredentialId: typeof d.active_credential_id === "string" ? d.active_credential_id : undefined,
  };
}

/** Turns whatever the Nylas SDK threw into an HttpError that says what to do. */
export function toNylasHttpError(error: unknown, what: string): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as {
    name?: string;
    statusCode?: number;
    type?: string;
    requestId?: string;
    headers?: Record<string, string>;
    message?: string;
  };
  const status = typeof e.statusCode === "number" ? e.statusCode : 0;
  // The SDK throws a plain Error, status lost, when an error answer is not Nylas's JSON (a gateway's
  // HTML 502 page): that is the service failing, not an unreachable host.
  const notJson = status === 0 && /could not parse response from the server/i.test(e.message ?? "");
  const hint = notJson
    ? " Nylas (or a gateway in front of it) answered with a page that is not its JSON API, as during an outage; the call was retried. If it persists, check https://status.nylas.com and that NYLAS_API_URI is the API host (https://api.us.nylas.com or https://api.eu.nylas.com)."
    : status === 401
      ? " Check NYLAS_API_KEY, and that NYLAS_API_URI is your application's region (an EU application answers 401 on the US host and vice versa)."
      : status === 0
        ? " Check that NYLAS_API_URI is reachable."
        : status === 429
          ? " Nylas is rate limiting this application; the call was retried."
          : "";
  return new HttpError(
    `nylas: ${what} failed${status ? ` (${status}${e.type ? ` ${e.type}` : ""})` : ""}: ${excerpt(e.message ?? String(error))}.${hint}`,
    {
      service: "nylas",
      statusCode: status,
      code: notJson ? "non_json_answer" : e.type,
      requestId: e.requestId,
      retryAfterMs: parseRetryAfter(e.headers?.["retry-after"] ?? null, Date.now()),
      ambiguous: status === 0 || status >= 500,
      cause: error,
    },
  );
}

/** One webhook destination from a `/v3/webhooks` page. */
export function toWebhook(w: Record<string, unknown>): NylasWebhook {
  return {
    id: typeof w.id === "string" ? w.id : "",
    description: typeof w.description === "string" ? w.description : undefined,
    triggerTypes: Array.isArray(w.trigger_types) ? w.trigger_types.map(String) : [],
    webhookUrl: typeof w.webhook_url === "string" ? w.webhook_url : "",
    status: typeof w.status === "string" ? w.status : "",
    compressedDelivery: w.compressed_delivery === true,
  };
}
