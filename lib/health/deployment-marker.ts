/**
 * What "the first pass after a deployment" is measured against: a marker of the code and of the
 * settings the self-check depends on, compared with the one its last record holds.
 *
 * Nothing here may read `process.env` outside the config loader, and no documented platform
 * setting names a deployment, so the marker is made of two things the process has:
 *
 * - the build: a hash of the timer's own module file. In the deployed bundle (scripts/bundle.mjs)
 *   that file imports its shared chunks by content-hashed names (`chunks/[name]-[hash]`), so any
 *   change to the code it runs changes its bytes; under `watchdog serve` (unbundled) only a change
 *   to the trigger file itself does, and the daily run covers the rest.
 * - the settings that decide whom and what the checks ask: tenant, identity, endpoints, rotation
 *   mode, webhook URL. Changing them restarts the Function App — for the self-check, a deployment.
 *
 * No secret goes into it: the identity is named by its client id (or "managed identity"), never by
 * a credential.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";

function digest(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A short hash of the module file at `moduleUrl` (`import.meta.url`); "unknown" when it cannot be read. */
export function buildFingerprint(
  moduleUrl: string,
  read: (path: string) => Uint8Array = (path) => readFileSync(path),
): string {
  try {
    return digest(read(fileURLToPath(moduleUrl))).slice(0, 12);
  } catch {
    // Then only the settings and the daily run decide: never worse than no marker.
    return "unknown";
  }
}

type MarkerConfig = {
  azure: Pick<Config["azure"], "tenantId" | "clientId" | "authorityHost" | "graphEndpoint">;
  nylas: Pick<Config["nylas"], "apiUri" | "webhookPublicUrl">;
  rotation: Pick<Config["rotation"], "mode">;
};

/** `build <12 hex> settings <8 hex>`: readable in health, and equal only for the same code and settings. */
export function deploymentMarker(config: MarkerConfig, build: string): string {
  const settings = [
    config.azure.tenantId,
    config.azure.clientId ?? "managed identity",
    config.azure.authorityHost,
    config.azure.graphEndpoint,
    config.nylas.apiUri,
    config.nylas.webhookPublicUrl ?? "",
    config.rotation.mode,
  ].join("\n");
  return `build ${build} settings ${digest(settings).slice(0, 8)}`;
}
