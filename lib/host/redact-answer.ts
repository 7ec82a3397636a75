/**
 * The HTTP side of the redaction choke point: a Function's answer passes the
 * process's redactor before the host (Azure's, or `watchdog serve`) writes it.
 * A handler answers with what it knows — an error text from a service, a health
 * report — and a service that echoed a credential must not get it sent to
 * whoever called the route.
 */
import type { HttpResponseInit } from "@azure/functions";
import type { HttpTrigger } from "./trigger.js";
import { outputRedactor } from "../redaction.js";

/** The answer with its string or JSON body redacted; streams and binary bodies pass as they are. */
export function redactAnswer(init: HttpResponseInit): HttpResponseInit {
  let out = init;
  if (typeof init.body === "string") out = { ...out, body: outputRedactor.redact(init.body) };
  if (init.jsonBody !== undefined)
    out = { ...out, jsonBody: outputRedactor.redactValue(init.jsonBody as unknown) };
  return out;
}

type Handler = HttpTrigger["handler"];

const wrapped = new WeakMap<Handler, Handler>();

/**
 * The handler, answering through `redactAnswer`. One wrapper per handler, so the Functions host
 * and `watchdog serve` are given the very same function for a route.
 */
export function redactingHandler(handler: Handler): Handler {
  let out = wrapped.get(handler);
  if (out === undefined) {
    out = async (request, context) => redactAnswer(await handler(request, context));
    wrapped.set(handler, out);
  }
  return out;
}
