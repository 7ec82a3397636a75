/**
 * The Nylas webhook endpoint, independent of the host (Azure Functions or
 * `watchdog serve`). Order matters and each rejection has its own status
 * (octokit/webhooks.js does the same):
 *
 *   GET ?challenge → 200 text/plain, the value exactly (Nylas's handshake)
 *   no NYLAS_WEBHOOK_SECRET → 503, every POST refused (fail closed)
 *   > 1 MiB → 413 · an encoding other than gzip → 415 · bad/missing signature
 *   → 401 (all over the raw bytes, before anything is decoded or parsed) ·
 *   gzip that inflates past 1 MiB → 413 · invalid JSON or envelope → 400 ·
 *   unknown type, or a test event → 200 and nothing else
 *
 * No Content-Type gate: the HMAC already authenticates the body, and a 4xx is
 * never retried by Nylas. Failures that may pass (the state store) answer 503,
 * which Nylas retries (408, 429, 502, 503, 504, 507).
 *
 * An accepted notification is recorded durably and de-duplicated by its id
 * before the 200, and alert delivery is bounded so the answer comes well
 * inside Nylas's 10 s window; whatever is not delivered stays pending for the
 * next sweep.
 */
// zod/mini: the same validators as `zod` (one core), but tree-shakable — the classic `z` namespace
// costs ~40 ms of every Function cold start, this ~5 ms (bench/RESULTS.md, "cold start").
import * as z from "zod/mini";
import { gunzipSync } from "node:zlib";
import type { Config } from "../config.js";
import { DAY_MS, type Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore } from "../state/store.js";
import { errorMessage } from "../errors.js";
import { verifyNylasSignature } from "./verify-nylas-signature.js";
import { processGrantEvent, type GrantEvent, type GrantEventDeps } from "./process-grant-event.js";

/** How long accepted notification ids are remembered (the sweep purges older ones): older deliveries are stale. */
export const STALE_DELIVERY_MS = 7 * DAY_MS;

/** Nylas's payload limit is 1 MB; anything larger is not from Nylas. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Time budget for alert delivery inside one webhook answer (Nylas gives up at 10 s). */
export const DELIVERY_BUDGET_MS = 4_000;
/**
 * Time budget for processing one notification (`grant.updated` asks Nylas
 * whether the grant is valid, and Nylas may be slow): past it the answer is a
 * 503 and the recorded event is finished by Nylas's retry or the next sweep.
 */
export const PROCESS_BUDGET_MS = 3_000;
/** Wall-clock budget of the whole answer: Nylas counts a delivery failed after 10 s. */
export const ANSWER_BUDGET_MS = 6_000;

export const GRANT_EVENT_TYPES = [
  "grant.expired",
  "grant.updated",
  "grant.created",
  "grant.deleted",
] as const;

export interface WebhookInput {
  method: string;
  query: URLSearchParams;
  headers: { get(name: string): string | null };
  /** The raw body, exactly as received (the signature covers these bytes). */
  body(): Promise<Buffer>;
}

export interface WebhookOutput {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface WebhookDeps extends Omit<GrantEventDeps, "state"> {
  config: Config;
  clock: Clock;
  logger: Logger;
  state: () => Promise<StateStore>;
  /** Sends pending alerts, stopping at the deadline; what is left is re-driven later. */
  deliverPending: (deadlineMs: number) => Promise<void>;
}

// Optional fields may arrive as null (Nylas sends `"email": null` for some grants): null = absent.
/** Ids as Nylas issues them: they go into log lines and URLs, so no control characters, slashes or dots. */
const ID = /^[A-Za-z0-9_-]{1,256}$/;

const Envelope = z.object({
  id: z.string().check(z.regex(ID)),
  type: z.string().check(z.minLength(1), z.maxLength(128)),
  time: z.optional(z.nullable(z.number())),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const GrantObject = z.object({
  grant_id: z.string().check(z.regex(ID)),
  provider: z.optional(z.nullable(z.string().check(z.maxLength(64)))),
  email: z.optional(z.nullable(z.string().check(z.maxLength(320)))),
  grant_updated_at: z.optional(z.nullable(z.number())),
});

/**
 * What Nylas's "send test event" delivers (POST /v3/webhooks/send-test-event):
 * a mock notification for a grant that does not exist. Acknowledged, never an incident.
 */
const TEST_EVENT_IDS = new Set(["mock-id"]);
const TEST_GRANT_IDS = new Set(["NYLAS_GRANT_ID", "<NYLAS_GRANT_ID>"]);

/**
 * Nylas signs what "send test event" delivers with a fixed secret (API reference,
 * send-test-event: "The secret used is `mock-webhook-secret`"), not the
 * destination's. Such a body is acknowledged — it can only ever be a test
 * event, which does nothing — so a test from the dashboard shows success.
 */
const TEST_EVENT_SECRET = "mock-webhook-secret";

function isSignedTestEvent(raw: Buffer, encoding: string, header: string | null): boolean {
  if (!verifyNylasSignature(raw, header, TEST_EVENT_SECRET)) return false;
  const decoded = decodeBody(raw, encoding);
  if ("reject" in decoded) return false;
  try {
    const envelope = Envelope.parse(JSON.parse(decoded.body.toString("utf8")));
    const grantId = envelope.data.object.grant_id;
    return TEST_EVENT_IDS.has(envelope.id) || (typeof grantId === "string" && TEST_GRANT_IDS.has(grantId));
  } catch {
    return false;
  }
}

type Decoded = { body: Buffer } | { reject: WebhookOutput };

/** The JSON bytes of a verified body: as sent, or inflated from gzip (bounded, so a zip bomb is refused). */
function decodeBody(raw: Buffer, encoding: string): Decoded {
  if (encoding === "" || encoding === "identity") return { body: raw };
  try {
    return { body: gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES }) };
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
      return { reject: json(413, { error: "payload too large once decompressed" }) };
    return { reject: json(400, { error: "invalid gzip body" }) };
  }
}

export interface EventRecord {
  type: string;
  grantId: string;
  receivedAt: string;
  status: "received" | "processed";
  event: GrantEvent;
}

function reply(status: number, body: string, contentType = "application/json"): WebhookOutput {
  return { status, body, headers: { "content-type": contentType } };
}

const json = (status: number, value: unknown) => reply(status, JSON.stringify(value));

export async function handleNylasWebhook(input: WebhookInput, deps: WebhookDeps): Promise<WebhookOutput> {
  // Wall clock on purpose (not deps.clock): the budget is Nylas's real 10 s.
  const startedMs = performance.now();
  const method = input.method.toUpperCase();
  if (method === "GET") {
    const challenge = input.query.get("challenge");
    if (challenge === null) return json(400, { error: "missing challenge parameter" });
    // The handshake: echo the value exactly, as plain text, no JSON quoting.
    // nosniff: the echo is attacker-chosen text; no browser may render it as anything but text.
    return {
      status: 200,
      body: challenge,
      headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
    };
  }
  if (method !== "POST")
    return {
      ...json(405, { error: "method not allowed" }),
      headers: { allow: "GET, POST", "content-type": "application/json" },
    };

  const secret = deps.config.nylas.webhookSecret;
  if (secret === undefined) {
    deps.logger.error(
      "nylasWebhook: NYLAS_WEBHOOK_SECRET is not set, so no notification can be verified; refusing every POST. Set it to the webhook_secret Nylas returned when the webhook was created.",
    );
    return json(503, { error: "webhook secret not configured" });
  }

  const declared = Number(input.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return json(413, { error: "payload too large" });
  const encoding = (input.headers.get("content-encoding") ?? "").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity" && encoding !== "gzip" && encoding !== "x-gzip")
    return json(415, { error: "content encoding must be gzip or none" });

  const raw = await input.body();
  if (raw.length > MAX_BODY_BYTES) return json(413, { error: "payload too large" });
  // The signature covers the bytes as sent: the gzip bytes of a compressed delivery.
  if (!verifyNylasSignature(raw, input.headers.get("x-nylas-signature"), secret)) {
    if (isSignedTestEvent(raw, encoding, input.headers.get("x-nylas-signature"))) {
      deps.logger.info(
        "nylasWebhook: Nylas test event (signed with the documented mock secret) acknowledged",
      );
      return json(200, { status: "test" });
    }
    deps.logger.warn("nylasWebhook: rejected a POST with a missing or invalid x-nylas-signature");
    return json(401, { error: "invalid signature" });
  }
  const decoded = decodeBody(raw, encoding);
  if ("reject" in decoded) {
    deps.logger.warn(`nylasWebhook: a signed body could not be decompressed (${decoded.reject.status})`);
    return decoded.reject;
  }

  let envelope: z.infer<typeof Envelope>;
  try {
    envelope = Envelope.parse(JSON.parse(decoded.body.toString("utf8")));
  } catch {
    deps.logger.warn("nylasWebhook: signed body is not a Nylas notification (invalid JSON or envelope)");
    return json(400, { error: "invalid notification body" });
  }

  if (!(GRANT_EVENT_TYPES as readonly string[]).includes(envelope.type)) {
    return json(200, { status: "ignored", type: envelope.type });
  }
  const object = GrantObject.safeParse(envelope.data.object);
  if (!object.success) return json(400, { error: "grant notification without grant_id" });
  if (TEST_EVENT_IDS.has(envelope.id) || TEST_GRANT_IDS.has(object.data.grant_id)) {
    deps.logger.info(`nylasWebhook: test event ${envelope.type} acknowledged; nothing raised`);
    return json(200, { status: "test", type: envelope.type });
  }
  // Duplicates are recognised for EVENT_RETENTION (7 days); a delivery older than that could be a captured
  // one replayed after its record was purged. Nylas retries for minutes, not days: acknowledge, raise nothing.
  const sentAt = envelope.time ?? undefined;
  if (sentAt !== undefined && deps.clock.now().getTime() - sentAt * 1000 > STALE_DELIVERY_MS) {
    deps.logger.warn(
      `nylasWebhook: ${envelope.type} ${envelope.id} was sent at ${new Date(sentAt * 1000).toISOString()}, longer ago than duplicates are remembered; acknowledged, nothing raised`,
    );
    return json(200, { status: "stale" });
  }

  const event: GrantEvent = {
    id: envelope.id,
    type: envelope.type as GrantEvent["type"],
    grantId: object.data.grant_id,
    provider: object.data.provider ?? "unknown",
    email: object.data.email ?? undefined,
    grantUpdatedAt: object.data.grant_updated_at ?? undefined,
    time: envelope.time ?? undefined,
  };

  try {
    return await accept(event, deps, startedMs);
  } catch (error) {
    // The state store (or another dependency) failed before the event was safely recorded: a 503 makes
    // Nylas deliver it again (it retries 408, 429, 502, 503, 504 and 507, never another 4xx or a 500).
    deps.logger.error(
      `nylasWebhook: could not record ${event.type} ${event.id}: ${errorMessage(error)}; answering 503 so Nylas retries`,
    );
    return json(503, { error: "temporarily unable to record the notification; will be retried" });
  }
}

async function accept(event: GrantEvent, deps: WebhookDeps, startedMs: number): Promise<WebhookOutput> {
  const state = await deps.state();
  const record: EventRecord = {
    type: event.type,
    grantId: event.grantId,
    receivedAt: deps.clock.now().toISOString(),
    status: "received",
    event,
  };
  // Record first: once this write succeeds the event cannot be lost, even if we crash before answering.
  const created = await state.put("events", event.id, record, { ifNotExists: true });
  if (!created.ok) {
    const existing = await state.get<EventRecord>("events", event.id);
    if (existing?.value.status === "processed") return json(200, { status: "duplicate" });
    // Received before but not finished (crash or concurrent delivery): processing is idempotent.
  }

  try {
    const outcome = await withinBudget(processGrantEvent(event, { ...deps, state }), (error) =>
      deps.logger.warn(
        `nylasWebhook: ${event.type} ${event.id} finished after its answer: ${errorMessage(error)}; the next sweep re-drives it.`,
      ),
    );
    if (outcome === OVERTIME) {
      deps.logger.warn(
        `nylasWebhook: ${event.type} ${event.id} took longer than ${PROCESS_BUDGET_MS} ms (is Nylas slow?); answering 503 so Nylas retries it, and the next sweep re-drives it.`,
      );
      return json(503, { error: "temporarily unable to process; will be retried" });
    }
    await state.put("events", event.id, { ...record, status: "processed" });
    const budgetMs = Math.min(DELIVERY_BUDGET_MS, ANSWER_BUDGET_MS - (performance.now() - startedMs));
    if (budgetMs > 0) {
      await deps.deliverPending(budgetMs).catch((error: unknown) => {
        deps.logger.warn(`nylasWebhook: alert delivery deferred to the next sweep: ${errorMessage(error)}`);
      });
    }
    return json(200, { status: "accepted", outcome });
  } catch (error) {
    // Recorded but not processed: the sweep re-drives it. Answer 200 anyway? No: a 5xx makes Nylas retry,
    // which is the faster path to processing it once the cause (e.g. state or Nylas API down) clears.
    deps.logger.error(`nylasWebhook: could not process ${event.type} ${event.id}: ${errorMessage(error)}`);
    return json(503, { error: "temporarily unable to process; will be retried" });
  }
}

const OVERTIME = Symbol("overtime");

/**
 * `work`, or OVERTIME after PROCESS_BUDGET_MS. Work that overruns keeps going
 * (the Nylas client cannot be cancelled); `late` hears if it fails afterwards.
 */
async function withinBudget<T>(
  work: Promise<T>,
  late: (error: unknown) => void,
): Promise<T | typeof OVERTIME> {
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<typeof OVERTIME>((resolve) => {
    timer = setTimeout(() => resolve(OVERTIME), PROCESS_BUDGET_MS);
  });
  try {
    const result = await Promise.race([work, overtime]);
    if (result === OVERTIME) work.catch(late);
    return result;
  } finally {
    clearTimeout(timer);
  }
}
