/** The Nylas v3 shapes this product reads and writes: the Microsoft connector, grants, webhooks. */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";

export interface MicrosoftConnector {
  name: string | undefined;
  clientId: string | undefined;
  tenant: string | undefined;
  scope: string[];
  /** False when the connector read carried no `scope`: an update must then not send one. */
  hasScope: boolean;
  /** `settings` exactly as Nylas returned them (snake_case, never the secret): an update sends back these. */
  settings: Record<string, unknown>;
  /** The connector's default credential (Nylas' multi-credential connectors), when it has one. */
  activeCredentialId: string | undefined;
}

export interface NylasGrant {
  id: string;
  provider: string;
  grantStatus: string;
  email: string | undefined;
  scope: string[];
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds: when the user last authenticated this grant. */
  updatedAt: number;
  /** The Nylas credential the grant uses for provider communication, when Nylas reports one. */
  credentialId: string | undefined;
}

export interface NylasWebhook {
  id: string;
  description: string | undefined;
  triggerTypes: string[];
  webhookUrl: string;
  status: string;
  /** Nylas gzips this destination's deliveries (`compressed_delivery`, since 2026-04). */
  compressedDelivery: boolean;
}

export interface ListGrantsOptions {
  provider?: string;
  grantStatus?: "valid" | "invalid";
  /** Page size asked for; Nylas documents at most 200 and may answer with fewer. */
  limit?: number;
}

/** A paged read saw the list change under it (a grant deleted or moved between pages). */
export class InconsistentReadError extends Error {
  override name = "InconsistentReadError";
}

export interface NylasClientOptions {
  apiKey: string;
  apiUri: string;
  clock: Clock;
  logger: Logger;
  /** Per request, in seconds (the SDK's unit). */
  timeoutSeconds?: number;
}

export const MAX_GRANTS_PAGE = 200;
