/**
 * How the sandbox lays out what happened: indented blocks, and alert
 * deliveries (describe-alerts.ts). Shared by the story and its chapters.
 */
export { describeAlerts } from "./describe-alerts.js";

/** Indents every non-empty line. */
export function indent(text: string, by = "   "): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => (l === "" ? l : by + l))
    .join("\n");
}
