/**
 * What `watchdog doctor` does, loaded only when doctor runs (lib/cli/doctor-command.ts holds its
 * help): every check, the explainer and the secret check stay out of other commands' start-up.
 */
import { loadConfig } from "../config.js";
import { createDeps, type DepsOverrides } from "../deps.js";
import { UsageError } from "../errors.js";
import { DOCTOR_SCHEMA, runDoctor } from "../doctor/run-doctor.js";
import { formatDoctorJson, formatDoctorText } from "../doctor/format-doctor.js";
import { explainError, formatExplanations, formatNotRecognised } from "../doctor/explain.js";
import {
  checkCandidateSecret,
  type SecretCheckOptions,
  type SecretCheckResult,
} from "../doctor/secret-check.js";
import { readSecret } from "../doctor/read-secret.js";
import { commandLogger, type CommandContext } from "./main.js";
import type { ExitCode } from "./io.js";
import type { Problem } from "./failure.js";
import type { NylasRegionUrls } from "../doctor/nylas-regions.js";

/** What tests hand `createDoctorCommand` (doctor-command.ts); production passes nothing. */
export interface DoctorCommandOptions {
  /** Nylas region base URLs (tests: the simulator's two Nylas servers). */
  nylasRegions?: NylasRegionUrls;
  depsOverrides?: DepsOverrides;
  checkClientSecret?: SecretCheckOptions["checkClientSecret"];
}

export async function runDoctorCommand(
  { io, values, positionals }: CommandContext,
  options: DoctorCommandOptions,
): Promise<ExitCode> {
  const regionOptions = options.nylasRegions ? { nylasRegions: options.nylasRegions } : {};
  const json = values.json === true;
  if (positionals.length > 0) {
    // Never echo positionals: with --secret, one of them may be the secret itself.
    throw new UsageError(
      values.secret === true
        ? "doctor --secret takes no arguments: a secret on the command line stays in shell history and the process list. Pipe it on stdin instead (e.g. `pbpaste | watchdog doctor --secret`), and if you just typed a secret value, remove it from your shell history."
        : `doctor takes no positional arguments (got ${positionals.length}); quote the error text: doctor --explain "<error>".`,
    );
  }
  if (values.secret === true && values.explain !== undefined) {
    throw new UsageError("use either --secret or --explain, not both.");
  }

  if (values.explain !== undefined) {
    const text = String(values.explain);
    if (text.trim() === "")
      throw new UsageError('--explain needs the error text: doctor --explain "<error>".');
    const explanations = explainError(text);
    const code: ExitCode = explanations.length > 0 ? 0 : 1;
    if (json) {
      io.out(
        `${JSON.stringify({ schema: DOCTOR_SCHEMA, mode: "explain", recognised: code === 0, explanations, problems: code === 0 ? [] : [NOT_RECOGNISED], exitCode: code }, null, 2)}\n`,
      );
    } else io.out(code === 0 ? formatExplanations(explanations) : formatNotRecognised());
    return code;
  }

  const doctorOptions = { ...regionOptions, probeRegions: values["probe-regions"] === true };
  const config = loadConfig(io.env);
  const deps = createDeps(config, commandLogger(io, values), options.depsOverrides);

  if (values.secret === true) {
    const secret = await readSecret({ stdin: io.stdin, prompt: (t) => io.err(t) });
    // Second line of defence: the process's redactor, which every output passes, now knows the value.
    deps.redactor.add(secret);
    const result = await checkCandidateSecret(deps, secret, {
      ...doctorOptions,
      ...(options.checkClientSecret ? { checkClientSecret: options.checkClientSecret } : {}),
    });
    io.out(json ? secretJson(result) : secretText(result));
    return result.exitCode;
  }

  const report = await runDoctor(deps, doctorOptions);
  io.out(json ? formatDoctorJson(report) : formatDoctorText(report));
  return report.exitCode;
}

function secretJson(result: SecretCheckResult): string {
  const problems: Problem[] = result.accepted
    ? []
    : [
        {
          code: "secret.refused",
          message: result.summary,
          fix: result.fix ?? "Fix what the summary names, then check again.",
        },
      ];
  return `${JSON.stringify({ schema: DOCTOR_SCHEMA, mode: "secret", ...result, problems, exitCode: result.exitCode }, null, 2)}\n`;
}

function secretText(result: SecretCheckResult): string {
  const lines = [`${result.accepted ? "ACCEPTED" : "REFUSED"}  ${result.summary}`];
  if (result.fix !== undefined) lines.push(...indent("Fix:", result.fix));
  if (result.source !== undefined) lines.push(...indent("Source:", result.source));
  return `${lines.join("\n")}\n`;
}

const NOT_RECOGNISED: Problem = {
  code: "explain.not-recognised",
  message: "The error text matches none of the errors doctor knows.",
  fix: "Paste the error code or the full error text (e.g. AADSTS7000215, 45001); 'watchdog doctor --help' lists them.",
};

function indent(label: string, text: string): string[] {
  const [first, ...rest] = text.split("\n");
  const pad = " ".repeat(6 + label.length + 1);
  return [`      ${label} ${first ?? ""}`, ...rest.map((line) => `${pad}${line}`)];
}
