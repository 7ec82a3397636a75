/**
 * Doctor's two faces: lines for people (`PASS  id  summary`, then indented
 * `Fix:` and `Source:`, then a tally) and one JSON document for machines
 * (schema `secret-watchdog.doctor/v1`).
 */
import { CHECK_IDS, type CheckResult } from "./check.js";
import type { DoctorReport } from "./run-doctor.js";

const ID_WIDTH = Math.max(...CHECK_IDS.map((id) => id.length));

function block(label: string, text: string, indent: string): string[] {
  const [first, ...rest] = text.split("\n");
  const pad = indent + " ".repeat(label.length + 1);
  return [`${indent}${label} ${first ?? ""}`, ...rest.map((line) => `${pad}${line}`)];
}

export function formatCheck(check: CheckResult): string {
  const lines = [`${check.status.toUpperCase().padEnd(4)}  ${check.id.padEnd(ID_WIDTH)}  ${check.summary}`];
  const indent = " ".repeat(6);
  if (check.fix !== undefined && check.status !== "pass") lines.push(...block("Fix:", check.fix, indent));
  if (check.source !== undefined && check.status !== "pass")
    lines.push(...block("Source:", check.source, indent));
  return lines.join("\n");
}

export function formatDoctorText(report: DoctorReport): string {
  const { counts } = report;
  const tally = `${report.checks.length} checks: ${counts.pass} pass · ${counts.warn} warn · ${counts.fail} fail · ${counts.skip} skip`;
  const unreachable =
    report.unreachable.length > 0
      ? [
          `Could not reach: ${report.unreachable.map((s) => (s === "nylas" ? "Nylas" : "Microsoft Entra/Graph")).join(", ")}.`,
        ]
      : [];
  // Said once at the end, whichever checks it stopped: the fix is one setting, not one per check.
  const own =
    report.ownCredential === undefined
      ? []
      : [`The watchdog's own credential was refused: ${report.ownCredential}`];
  return [...report.checks.map(formatCheck), "", tally, ...unreachable, ...own, ""].join("\n");
}

export function formatDoctorJson(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
