/**
 * The display name every watchdog-created secret carries:
 *
 *   secret-watchdog i-3f9a1c2e r-20261201T075313Z-a1b2c3 (do not edit; rotated automatically)
 *
 * The installation id says which state store made it, so any runner can tell
 * its own keys from another installation's (a laptop beside the deployed
 * Function, a redeploy that lost its Table). The rotation id lets the next run
 * of the same installation match a key to the durable record of the attempt
 * that created it. Keys made before installation ids existed carry only the
 * rotation id ("legacy"): they are this installation's only if its records
 * name them.
 */
import { randomBytes } from "node:crypto";

const PREFIX = "secret-watchdog";
const INSTALLATION = /^i-[0-9a-f]{8}$/;
const MARKER = new RegExp(`^${PREFIX} (?:(i-[0-9a-f]{8}) )?(r-(\\d{8}T\\d{6}Z)-[0-9a-f]{6})\\b`);

export function newRotationId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `r-${stamp}-${randomBytes(3).toString("hex")}`;
}

export function newInstallationId(): string {
  return `i-${randomBytes(4).toString("hex")}`;
}

export function isInstallationId(value: unknown): value is string {
  return typeof value === "string" && INSTALLATION.test(value);
}

export function markerFor(installationId: string, rotationId: string): string {
  return `${PREFIX} ${installationId} ${rotationId} (do not edit; rotated automatically)`;
}

export interface Marker {
  /** Undefined for keys made before installation ids existed. */
  installationId: string | undefined;
  rotationId: string;
  /** When the rotation that made the key started (from the rotation id). */
  startedAt: string;
}

/** The watchdog marker in a display name, or undefined for any other name. */
export function parseMarker(displayName: string | null): Marker | undefined {
  if (displayName === null) return undefined;
  const m = MARKER.exec(displayName);
  if (!m?.[2] || !m[3]) return undefined;
  const s = m[3];
  const startedAt = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`;
  return { installationId: m[1], rotationId: m[2], startedAt };
}

/** The rotation id in a watchdog marker, or undefined for any other display name. */
export function rotationIdOf(displayName: string | null): string | undefined {
  return parseMarker(displayName)?.rotationId;
}
