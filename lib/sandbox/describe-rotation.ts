/** How the sandbox shows a watch pass's rotation: the decision, and each step of a rotation it made. */
import type { Simulator } from "../sim/index.js";
import type { WatchdogPassResult } from "../watchdog-pass.js";
import { parseMarker } from "../rotation/marker.js";

export function describeRotation(result: WatchdogPassResult, sim: Simulator): string {
  const r = result.rotation;
  const lines = [`Decision: ${r.decision} — ${r.reason}.`];
  const o = r.outcome;
  if (o?.status === "rotated") {
    const name = sim.tenant
      .appByAppId(sim.nylasApp?.appId ?? "")
      ?.passwordCredentials.find((p) => p.keyId === o.keyId)?.displayName;
    const marker = parseMarker(name ?? null);
    lines.push(
      `1. addPassword: secret ${o.keyId} for ${o.lifetimeDays} days, display name "secret-watchdog ${marker?.installationId ? `${marker.installationId} ` : ""}${o.rotationId} …" (installation id, rotation id).`,
      `2. Proven with Entra: refused as not yet propagated (AADSTS7000215), accepted after ${Math.round(o.propagationMs / 1000)} s (simulated). No PATCH before that.`,
      `3. PATCH /v3/connectors/microsoft with the full settings (client_id, client_secret, tenant) and the scope unchanged.`,
      `4. New sign-ins now use the new secret. Superseded: ${o.superseded.join(", ")} — existing grants keep the secret they signed in with.`,
    );
  }
  lines.push(
    `Users still on a superseded secret: ${result.migration.dependents}; re-authentication requests sent: ${result.migration.reauthRequested}.`,
  );
  return lines.join("\n");
}
