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
 * before the 200. The answer waits for alert delivery only a few seconds, so
 * it comes well inside Nylas's 10 s window; delivery goes on after the answer
 * (one bounded background drain per process, `lib/incidents/background-drain.ts`),
 * so a burst's alerts go out without waiting for the next sweep, and a slow
 * sink's message is not abandoned mid-flight and sent again.
 */
import type { StateStore } from "../state/store.js";
import { errorMessage } from "../errors.js";
import { processGrantEvent, type GrantEvent, type GrantEventDeps } from "./process-grant-event.js";
import { MAX_BODY_BYTES, readNotification } from "./read-notification.js";

export { GRANT_EVENT_TYPES, MAX_BODY_BYTES, STALE_DELIVERY_MS } from "./read-notification.js";

/** How long one webhook answer waits for alert delivery (Nylas gives up at 10 s); delivery itself goes on. */
export const DELIVERY_BUDGET_MS = 4_000;
/**
 * Time budget for processing one notification (`grant.updated` asks Nylas
 * whether the grant is valid, and Nylas may be slow): past it the answer is a
 * 503 and the recorded event is finished by Nylas's retry or the next sweep.
 */
export const PROCESS_BUDGET_MS = 3_000;
/** Wall-clock budget of the whole answer: Nylas counts a delivery failed after 10 s. */
export const ANSWER_BUDGET_MS = 6_000;

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

export interface WebhookDeps extends Omit<GrantEventDeps, "store"> {
  store: () => Promise<StateStore>;
  /**
   * Starts (or joins) the background delivery of pending alerts and waits for
   * it at most `waitMs`; it goes on after the answer, and what it leaves is
   * re-driven by the next sweep.
   */
  deliverPending: (waitMs: number) => Promise<void>;
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
  const read = readNotification(raw, {
    encoding,
    signature: input.headers.get("x-nylas-signature"),
    secret,
    nowMs: deps.clock.now().getTime(),
  });
  if ("status" in read) {
    if (read.log !== undefined) deps.logger[read.log.level](read.log.message);
    return json(read.status, read.body);
  }
  const { event } = read;

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
  const state = await deps.store();
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
    const work = processGrantEvent(event, { ...deps, store: state });
    const outcome = await withinBudget(work);
    if (outcome === OVERTIME) {
      // The work goes on after the 503. Its alerts must not wait for Nylas's retry (minutes, under load):
      // finished, the event is marked processed and the background drain asked for, as an answer in time does.
      finishLate(work, state, record, event, deps).catch((error: unknown) =>
        deps.logger.warn(
          `nylasWebhook: ${event.type} ${event.id} failed after its answer: ${errorMessage(error)}; the next sweep re-drives it.`,
        ),
      );
      deps.logger.warn(
        `nylasWebhook: ${event.type} ${event.id} took longer than ${PROCESS_BUDGET_MS} ms (is Nylas slow?); answering 503 so Nylas retries it; its alerts go out once it finishes.`,
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

/** After a 503 for overtime: the work's end, recorded and its alerts sent (the drain goes on in the background). */
async function finishLate(
  work: Promise<unknown>,
  state: StateStore,
  record: EventRecord,
  event: GrantEvent,
  deps: WebhookDeps,
): Promise<void> {
  await work;
  await state.put("events", event.id, { ...record, status: "processed" });
  await deps.deliverPending(0);
}

const OVERTIME = Symbol("overtime");

/**
 * `work`, or OVERTIME after PROCESS_BUDGET_MS. Work that overruns keeps going
 * (the Nylas client cannot be cancelled); the caller follows it then.
 */
async function withinBudget<T>(work: Promise<T>): Promise<T | typeof OVERTIME> {
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<typeof OVERTIME>((resolve) => {
    timer = setTimeout(() => resolve(OVERTIME), PROCESS_BUDGET_MS);
  });
  try {
    return await Promise.race([work, overtime]);
  } finally {
    clearTimeout(timer);
  }
}
