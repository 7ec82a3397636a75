/**
 * The Microsoft Graph SDK, gathered in one module that graph.ts imports on
 * demand (the webhook path never loads it). Static imports here rather than
 * `import()`s there: the SDK is CommonJS only, and a static import is the
 * one form that gets its named exports everywhere — in Node, and in the
 * esbuild bundle that is deployed, where `import()` of a CommonJS package
 * yields only `default` (docs/deploy.md, "Packaging").
 *
 * The middleware named here is the SDK's default chain minus RetryHandler:
 * Graph reads are retried by lib/clients/retry.ts, whose waits are capped.
 */
import type { TokenCredential } from "@azure/identity";
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  TelemetryHandler,
} from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { rememberSecret } from "../redaction.js";
import { graphScope } from "./credential.js";

/**
 * A Graph SDK client for `endpoint`, authenticated by `credential`. Every token
 * it obtains is told to the redactor: a Graph error body that echoes the
 * request's Authorization header must not carry the token into any output.
 */
export function createSdkClient(credential: TokenCredential, endpoint: string): Client {
  const remembering: TokenCredential = {
    getToken: async (scopes, options) => {
      const token = await credential.getToken(scopes, options);
      rememberSecret(token?.token);
      return token;
    },
  };
  const authProvider = new TokenCredentialAuthenticationProvider(remembering, {
    scopes: [graphScope(endpoint)],
  });
  return Client.initWithMiddleware({
    middleware: [
      new AuthenticationHandler(authProvider),
      new RedirectHandler(new RedirectHandlerOptions()),
      new TelemetryHandler(),
      new HTTPMessageHandler(),
    ],
    baseUrl: endpoint.replace(/\/+$/, "") + "/",
    defaultVersion: "v1.0",
    // The client sends the token only to hosts it knows; sovereign and test hosts must be named.
    customHosts: new Set([new URL(endpoint).hostname]),
  });
}
