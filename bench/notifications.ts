/**
 * The signed notifications the serve figures send, and the settings they run
 * `serve` with. Apart from the figures, so a test can send the very same ones
 * without loading the bench's harness.
 */
import { randomUUID } from "node:crypto";
import type { RawRequest } from "autocannon";
import { signNylasBody } from "../lib/grants/verify-nylas-signature.js";

/** Never fires during a bench: `serve`'s timers must not run a pass under load. */
export const NEVER = "0 0 0 1 1 *";

export const WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef";

/** A notification type the watchdog does not handle (answered 200 "ignored" after verification). */
export function unknownTypeDelivery(): RawRequest {
  const body = JSON.stringify({
    specversion: "1.0",
    type: "message.created",
    source: "/google/emails/realtime",
    id: randomUUID(),
    time: Math.floor(Date.now() / 1000),
    webhook_delivery_attempt: 1,
    data: {
      application_id: "bench",
      object: { id: randomUUID(), grant_id: randomUUID(), object: "message", subject: "Quarterly report" },
    },
  });
  return {
    method: "POST",
    path: "/api/nylas/webhook",
    body,
    headers: {
      "content-type": "application/json",
      "x-nylas-signature": signNylasBody(body, WEBHOOK_SECRET),
    },
  };
}
