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
import {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  TelemetryHandler,
} from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";

export {
  AuthenticationHandler,
  Client,
  HTTPMessageHandler,
  RedirectHandler,
  RedirectHandlerOptions,
  TelemetryHandler,
  TokenCredentialAuthenticationProvider,
};
