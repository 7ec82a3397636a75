/**
 * Type guards for parsed JSON, shared by the hand-written answer checks and
 * the Nylas wire readers: what `z.looseObject`/`z.object` and
 * `z.optional(z.nullable(z.string()))` accept, without zod.
 */

/** A JSON object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Absent, null or a string. */
export function isOptionalText(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === "string";
}

/** A string `Date.parse` reads: a garbage date must not count as "never expires". */
export function isDateText(value: unknown): value is string {
  return typeof value === "string" && !Number.isNaN(Date.parse(value));
}
