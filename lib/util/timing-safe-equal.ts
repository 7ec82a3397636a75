import { timingSafeEqual as nodeTimingSafeEqual } from "node:crypto";

/**
 * Constant-time comparison of two strings (signatures, secrets). Unequal
 * lengths return false without comparing, which reveals only the length —
 * public anyway for a hex digest.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.length !== right.length) return false;
  return nodeTimingSafeEqual(left, right);
}
