/**
 * The scan's two faces: a table for people (soonest first) and one JSON
 * document for machines (schema `secret-watchdog.scan/v1`, documented in the
 * README), streamed so a 50,000-app tenant never sits in memory.
 */
import type { CredentialReport, ScanSummary } from "./scan.js";
import type { Thresholds } from "./classify.js";

export const SCAN_SCHEMA = "secret-watchdog.scan/v1";

/** Expired secrets of the connector's app nothing depends on (keyIds): reported, never a failure. */
export type UnusedExpired = ReadonlySet<string>;

/** A `problems` entry: what stopped the scan and what to do. */
export interface ScanFailure {
  exitCode: number;
  problems: readonly { code: string; message: string; fix: string }[];
}

/**
 * Text is handed to `write` in pieces of about this many characters. Writing
 * each credential on its own costs a system call apiece when stdout is a file
 * or a pipe: 75,000 of them for a 50,000-app tenant, a quarter of the scan's
 * time (bench/RESULTS.md, "scan").
 */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes `{"schema":…,"credentials":[ … ], "summary":…}` piece by piece; a scan that stops part-way
 * still ends it as one complete document (`fail`), with the credentials it had read.
 */
export class ScanJsonWriter {
  #count = 0;
  #pending = "";
  constructor(
    private readonly write: (text: string) => void,
    generatedAt: Date,
    thresholds: Thresholds,
    private readonly unused: UnusedExpired = new Set(),
  ) {
    this.#add(
      `{"schema":"${SCAN_SCHEMA}","generatedAt":${JSON.stringify(generatedAt.toISOString())},"thresholds":${JSON.stringify(thresholds)},"credentials":[`,
    );
  }

  credential(report: CredentialReport): void {
    const row = isUnused(report, this.unused) ? { ...report, use: "unused" } : report;
    this.#add(`${this.#count++ === 0 ? "\n" : ",\n"}${JSON.stringify(row)}`);
  }

  finish(summary: ScanSummary, exitCode: number): void {
    const { connector, apps, credentials, counts, problems, signIns } = summary;
    this.#add(
      `\n],"complete":true,"connector":${JSON.stringify(connector)},"signIns":${JSON.stringify(signIns)},"summary":${JSON.stringify(
        {
          apps,
          credentials,
          expired: counts.expired,
          expiredUnused: this.unused.size,
          critical: counts.critical,
          rotationDue: counts["rotation-due"],
          ok: counts.ok,
        },
      )},"problems":${JSON.stringify([...problems, ...attentionProblems(summary, this.unused.size)])},"exitCode":${exitCode}}\n`,
    );
    this.flush();
  }

  /** Ends the document of a scan that stopped part-way: what it read, why it stopped, its exit code. */
  fail(failure: ScanFailure): void {
    this.#add(
      `\n],"complete":false,"summary":{"credentials":${this.#count}},"problems":${JSON.stringify(failure.problems)},"exitCode":${failure.exitCode}}\n`,
    );
    this.flush();
  }

  /** Hands over whatever is buffered. `finish` does; call it too when the scan stops part-way. */
  flush(): void {
    if (this.#pending === "") return;
    const text = this.#pending;
    this.#pending = "";
    this.write(text);
  }

  #add(text: string): void {
    this.#pending += text;
    if (this.#pending.length >= CHUNK_CHARS) this.flush();
  }
}

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width - 1) + "…" : text.padEnd(width);
}

function shortDate(iso: string | null): string {
  return iso === null ? "never" : iso.replace("T", " ").slice(0, 16);
}

const STATUS_LABEL = {
  expired: "EXPIRED",
  critical: "CRITICAL",
  "rotation-due": "rotate soon",
  ok: "ok",
} as const;

/** The secrets that make the exit 1, as one `problems` entry (the credentials list says which). */
function attentionProblems(summary: ScanSummary, unused: number): ScanFailure["problems"] {
  const expired = summary.counts.expired - unused;
  const { critical } = summary.counts;
  if (expired + critical === 0) return [];
  return [
    {
      code: "secret.attention",
      message: `${expired} secret(s) in use expired and ${critical} within ALERT_BEFORE_DAYS (their status in "credentials" says which).`,
      fix: "Create a new secret for each, move what uses the old one to it, then delete the old one; for the connector's app, 'watchdog run' rotates it.",
    },
  ];
}

/** Only the connector app's secrets are judged for use: a watched app's expired secret is always reported. */
function isUnused(r: CredentialReport, unused: UnusedExpired): boolean {
  return r.source === "connector" && r.status === "expired" && unused.has(r.keyId);
}

export function formatScanTable(
  summary: ScanSummary,
  thresholds: Thresholds,
  unused: UnusedExpired = new Set(),
): string {
  const lines: string[] = [];
  const c = summary.connector;
  lines.push(
    c === null
      ? "Nylas Microsoft connector: none"
      : `Nylas Microsoft connector: client_id ${c.clientId ?? "(none)"}, tenant ${c.tenant ?? "(none)"}, ${c.scope.length} scope(s)`,
  );
  lines.push("");
  const header = `${pad("APP", 34)} ${pad("SOURCE", 10)} ${pad("TYPE", 7)} ${pad("KEY ID", 9)} ${pad("HINT", 5)} ${pad("EXPIRES (UTC)", 17)} ${"DAYS".padStart(5)}  ${pad("STATUS", 17)} LAST SIGN-IN (UTC)`;
  lines.push(header);
  lines.push("-".repeat(header.length));
  for (const r of summary.soonest) {
    const app = `${r.appDisplayName ?? "(no name)"} (${r.appId.slice(0, 8)})`;
    lines.push(
      `${pad(app, 34)} ${pad(r.source, 10)} ${pad(r.type === "password" ? "secret" : "cert", 7)} ${pad(r.keyId.slice(0, 8), 9)} ${pad(r.hint ?? "", 5)} ${pad(shortDate(r.endDateTime), 17)} ${(r.daysLeft === null ? "-" : String(r.daysLeft)).padStart(5)}  ${pad(isUnused(r, unused) ? "expired (unused)" : STATUS_LABEL[r.status], 17)} ${r.lastSignIn === undefined ? "-" : r.lastSignIn === null ? "none reported" : shortDate(r.lastSignIn)}`.trimEnd(),
    );
  }
  if (summary.credentials > summary.soonest.length) {
    lines.push(`… and ${summary.credentials - summary.soonest.length} more (all in --json).`);
  }
  if (summary.credentials === 0) lines.push("(no credentials)");
  lines.push("");
  const k = summary.counts;
  lines.push(
    `${summary.credentials} credential(s) in ${summary.apps} app(s): ${k.expired} expired${unused.size > 0 ? ` (${unused.size} unused: nothing depends on it, not a failure)` : ""}, ${k.critical} critical (≤ ${thresholds.alertBeforeDays} days), ${k["rotation-due"]} rotation due (≤ ${thresholds.rotateBeforeDays} days), ${k.ok} ok.`,
  );
  if (c !== null && !summary.signIns.readable)
    lines.push(
      "Last sign-in per secret: not shown; Entra's sign-in report is not readable (grant the watchdog's identity AuditLog.Read.All to see which secret is in use; `watchdog doctor` explains).",
    );
  for (const p of summary.problems) lines.push(`PROBLEM ${p.code}: ${p.message}\n  Fix: ${p.fix}`);
  return lines.join("\n") + "\n";
}
