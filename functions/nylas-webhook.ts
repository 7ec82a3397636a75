import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import { runtimeDeps, withInvocationLogger } from "../lib/runtime.js";
import { receiveNylasWebhook } from "../lib/grants/grant-passes.js";

/**
 * HTTP GET+POST `/api/nylas/webhook`, anonymous: the x-nylas-signature over
 * the raw body is the authentication (checked before anything is parsed).
 */
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

app.http("nylasWebhook", {
  methods: ["GET", "POST"],
  authLevel: "anonymous",
  route: "nylas/webhook",
  handler: nylasWebhook,
});
