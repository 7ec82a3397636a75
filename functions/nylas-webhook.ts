import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { receiveNylasWebhook } from "../lib/grants/grant-passes.js";
import type { HttpTrigger } from "../lib/host/trigger.js";
import { registerTrigger } from "../lib/host/register-trigger.js";

/** Nylas notifications (POST) and its challenge (GET). */
export async function nylasWebhook(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return withInvocationLogger(context, async () => {
    const output = await receiveNylasWebhook(runtimeDeps(), {
      method: request.method,
      query: request.query,
      headers: request.headers,
      body: async () => Buffer.from(await request.arrayBuffer()),
    });
    return { status: output.status, body: output.body, headers: output.headers };
  });
}

export const nylasWebhookTrigger: HttpTrigger = {
  kind: "http",
  name: "nylasWebhook",
  route: "nylas/webhook",
  methods: ["GET", "POST"],
  // Anonymous: the x-nylas-signature over the raw body is the authentication (checked before anything is parsed).
  authLevel: "anonymous",
  handler: nylasWebhook,
};

registerTrigger(nylasWebhookTrigger);
