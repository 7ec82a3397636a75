// What the command runs is imported inside run(), so other commands never load it.
import type { WatchdogPassResult } from "../watchdog-pass.js";
import type { Problem } from "./failure.js";
import { commandLogger, type Command } from "./main.js";

function describeRotation(result: WatchdogPassResult): string[] {
  const r = result.rotation;
  const lines = [
    `${result.dryRun ? "DRY RUN — nothing was changed.\n" : ""}Rotation: ${r.decision} — ${r.reason}`,
  ];
  for (const k of r.connectorKeys) {
    lines.push(
      `  connector secret: ${k.keyId} (${k.origin}${k.present ? "" : ", DELETED from the app"}), ends ${k.endDateTime ?? "unknown"}`,
    );
  }
  if (r.outcome?.status === "failed" && r.outcome.instructions)
    lines.push(`  what to do: ${r.outcome.instructions}`);
  for (const w of r.outcome?.warnings ?? []) lines.push(`  warning: ${w}`);
  return lines;
}

function describeMigration(result: WatchdogPassResult): string[] {
  const m = result.migration;
  if (m.byKey.length === 0) return [];
  return [
    `Migration: ${m.dependents} valid grant(s) still on superseded secrets; ${m.reauthRequested} re-authentication request(s) ${result.dryRun ? "would be " : ""}sent this pass.`,
    ...m.byKey.map((k) => `  ${k.count} on ${k.keyId} (ends ${k.endDateTime ?? "never"})`),
  ];
}

function describePlan(result: WatchdogPassResult): string[] {
  if (result.plan.length === 0) return [];
  // A pass that ends in exit 3 did not do what it set out to: its steps were attempted, not done.
  const heading = result.dryRun ? "Plan:" : result.exitCode === 3 ? "Attempted:" : "Done:";
  return [heading, ...result.plan.map((p) => `  - ${p}`)];
}

function describe(result: WatchdogPassResult): string {
  const { scan } = result;
  const lines = [
    ...(result.stopped ? [`STOPPED at ${result.stopped.step}: ${result.stopped.reason}`] : []),
    ...describeRotation(result),
    ...describeMigration(result),
    ...(result.retired.length > 0 ? [`Retired: ${result.retired.join(", ")}`] : []),
    ...describePlan(result),
    `Watched: ${scan.credentials} credential(s) in ${scan.apps} app(s): ${scan.counts.expired} expired, ${scan.counts.critical} critical, ${scan.counts["rotation-due"]} rotation due.`,
    ...scan.problems.map((p) => `PROBLEM ${p.code}: ${p.message}\n  Fix: ${p.fix}`),
  ];
  return lines.join("\n") + "\n";
}

/** The `--json` document's schema: versioned, so automation can tell a shape change. */
export const RUN_SCHEMA = "secret-watchdog.run/v1";

/** Why the pass ends with its exit code, for automation: empty exactly when it is 0. */
export function runProblems(result: WatchdogPassResult): Problem[] {
  const r = result.rotation;
  const problems: Problem[] = [];
  if (r.decision === "failed")
    problems.push({
      code: "rotation.failed",
      message: `Rotation failed: ${r.reason}`,
      fix:
        r.outcome?.status === "failed" && r.outcome.instructions
          ? r.outcome.instructions
          : "Run 'watchdog doctor' and fix what it names, then run again.",
    });
  if (r.decision === "other-installation")
    problems.push({
      code: "rotation.other-installation",
      message: r.reason,
      fix: "Run the installation that manages the connector, or take it over with 'watchdog run --adopt'.",
    });
  if (result.stopped)
    problems.push({
      code: "pass.stopped",
      message: result.stopped.reason,
      fix: "Nothing to do if it does not repeat: the next pass resumes. If every pass stops, the named service is throttling or unreachable: check its status page and this tenant's request volume.",
    });
  problems.push(...result.scan.problems.map(({ code, message, fix }) => ({ code, message, fix })));
  if (result.attention)
    problems.push({
      code: "secret.attention",
      message:
        "A secret something depends on is expired or within ALERT_BEFORE_DAYS; its incident says which.",
      fix: "Follow the incident's remediation (rotate or replace the secret), or run 'watchdog scan' to see each secret's days left.",
    });
  return problems;
}

export const runCommand: Command = {
  name: "run",
  summary: "one secretWatchdog pass: watch, rotate if due, migrate, retire, alert",
  usage: "run [--dry-run] [--force-rotate] [--adopt] [--json]",
  help: `
Runs one secretWatchdog pass, exactly as the timer does: reads the secrets,
rotates the Nylas connector's client secret when it expires within
ROTATE_BEFORE_DAYS (new secret → proven with Entra → PATCHed into the
connector), asks users still on a superseded secret to re-authenticate,
removes superseded secrets nothing depends on, and alerts.

--dry-run       print the plan; change nothing anywhere (reads only)
--force-rotate  rotate now, even if not due (also adopts a connector the
                watchdog has not rotated before)
--adopt         take over a connector another watchdog installation (another
                state store) manages; without it such a pass changes nothing
                and exits 3. The other installation's secrets are never
                removed by this one.
--json          print the pass result as one JSON document

Exit: 0 ok · 1 a secret something depends on is expired or within
ALERT_BEFORE_DAYS · 2 bad configuration · 3 rotation failed, another
installation manages the connector, a service could not be reached, or
the pass stopped early (a service kept throttling, or its time ran out).`,
  options: {
    "dry-run": { type: "boolean" },
    "force-rotate": { type: "boolean" },
    adopt: { type: "boolean" },
    json: { type: "boolean" },
  },
  async run({ io, values }) {
    const [{ loadConfig }, { createDeps }, { runWatchdogPass }] = await Promise.all([
      import("../config.js"),
      import("../deps.js"),
      import("../watchdog-pass.js"),
    ]);
    const deps = createDeps(loadConfig(io.env), commandLogger(io, values));
    const result = await runWatchdogPass(deps, {
      dryRun: values["dry-run"] === true,
      forceRotate: values["force-rotate"] === true,
      adopt: values.adopt === true,
    });
    // Closed before anything is printed: a failure here ends as main's one error document, not a second one.
    const store = await deps.store();
    await store.close?.();
    io.out(
      values.json === true
        ? `${JSON.stringify({ schema: RUN_SCHEMA, ...result, problems: runProblems(result), exitCode: result.exitCode })}\n`
        : describe(result),
    );
    return result.exitCode;
  },
};
