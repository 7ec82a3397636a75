/**
 * The display name every watchdog-created secret carries. It is what lets the
 * next run find a secret created by a run that crashed before it could record
 * the key id — and it tells people in the Entra portal who made it.
 */
import { randomBytes } from "node:crypto";

const PREFIX = "secret-watchdog";

export function newRotationId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `r-${stamp}-${randomBytes(3).toString("hex")}`;
}

export function markerFor(rotationId: string): string {
  return `${PREFIX} ${rotationId} (do not edit; rotated automatically)`;
}

/** The rotation id in a watchdog marker, or undefined for any other display name. */
export function rotationIdOf(displayName: string | null): string | undefined {
  if (displayName === null) return undefined;
  return new RegExp(`^${PREFIX} (r-\\d{8}T\\d{6}Z-[0-9a-f]{6})\\b`).exec(displayName)?.[1];
}
