import { loadConfig } from "../config.js";
import { createDeps, type DepsOverrides } from "../deps.js";
import { UsageError } from "../errors.js";
import { DOCTOR_SCHEMA, runDoctor } from "../doctor/run-doctor.js";
import { formatDoctorJson, formatDoctorText } from "../doctor/format-doctor.js";
import { explainError, formatExplanations, formatNotRecognised } from "../doctor/explain.js";
import { checkCandidateSecret, type SecretCheckOptions } from "../doctor/secret-check.js";
import { readSecret } from "../doctor/read-secret.js";
import type { NylasRegionUrls } from "../doctor/nylas-regions.js";
import { commandLogger, type Command } from "./main.js";
import type { ExitCode } from "./io.js";

export interface DoctorCommandOptions {
  /** Nylas region base URLs (tests: the simulator's two Nylas servers). */
  nylasRegions?: NylasRegionUrls;
  depsOverrides?: DepsOverrides;
  checkClientSecret?: SecretCheckOptions["checkClientSecret"];
}

/** Builds `watchdog doctor`; `doctorCommand` is the production instance. */
export function createDoctorCommand(options: DoctorCommandOptions = {}): Command {
  const regionOptions = options.nylasRegions ? { nylasRegions: options.nylasRegions } : {};
  return {
    name: "doctor",
    summary: "diagnose the Azure app, the Nylas connector and the settings, with fixes",
    usage: 'doctor [--json] [--probe-regions] [--secret] [--explain "<error>"]',
    help: `
Checks the Nylas application and its Microsoft connector, the Azure app
registration behind it, admin consent, grants, the webhook subscription and
the settings, and prints each check as PASS, WARN, FAIL or SKIP with the
concrete fix and the support thread or documentation it comes from.

--json      one JSON document (schema ${DOCTOR_SCHEMA}) on stdout.
--probe-regions
            when NYLAS_API_URI answers 401, also try the API key against the
            other public Nylas region (api.us / api.eu) to find where the
            application lives. Without it the key goes only to NYLAS_API_URI.
--secret    reads a candidate client secret VALUE from stdin (piped, or typed
            at a hidden prompt) — never from the command line — and tells
            whether Entra accepts it for the connector's app, or whether it is
            a secret ID pasted by mistake, or an expired secret.
            e.g.  pbpaste | watchdog doctor --secret
--explain   cause and steps for a pasted error (45001, AADSTS7000215,
            AADSTS7000222, 65001, 700016, 50011, 54005/invalid_grant, 401,
            403, grant.not_found). Needs no configuration.

Exit: doctor 0 all pass · 1 any warn or fail; --secret 0 accepted · 1 not;
--explain 0 recognised · 1 not; 2 bad usage or configuration; 3 Nylas or
Microsoft unreachable or refusing.`,
    options: {
      json: { type: "boolean" },
      secret: { type: "boolean" },
      explain: { type: "string" },
      "probe-regions": { type: "boolean" },
    },
    async run({ io, values, positionals }) {
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
            `${JSON.stringify({ schema: DOCTOR_SCHEMA, mode: "explain", recognised: code === 0, explanations, exitCode: code }, null, 2)}\n`,
          );
        } else io.out(code === 0 ? formatExplanations(explanations) : formatNotRecognised());
        return code;
      }

      const doctorOptions = { ...regionOptions, probeRegions: values["probe-regions"] === true };
      const config = loadConfig(io.env);
      const deps = createDeps(config, commandLogger(io, values), options.depsOverrides);

      if (values.secret === true) {
        const secret = await readSecret({ stdin: io.stdin, prompt: (t) => io.err(t) });
        // Second line of defence: anything printed or logged from here on is scrubbed of the value.
        deps.redactor.add(secret);
        const out = (text: string) => io.out(deps.redactor.redact(text));
        const result = await checkCandidateSecret(deps, secret, {
          ...doctorOptions,
          ...(options.checkClientSecret ? { checkClientSecret: options.checkClientSecret } : {}),
        });
        if (json) {
          out(`${JSON.stringify({ schema: DOCTOR_SCHEMA, mode: "secret", ...result }, null, 2)}\n`);
        } else {
          const lines = [`${result.accepted ? "ACCEPTED" : "REFUSED"}  ${result.summary}`];
          if (result.fix !== undefined) lines.push(...indent("Fix:", result.fix));
          if (result.source !== undefined) lines.push(...indent("Source:", result.source));
          out(`${lines.join("\n")}\n`);
        }
        return result.exitCode;
      }

      const report = await runDoctor(deps, doctorOptions);
      io.out(json ? formatDoctorJson(report) : formatDoctorText(report));
      return report.exitCode;
    },
  };
}

function indent(label: string, text: string): string[] {
  const [first, ...rest] = text.split("\n");
  const pad = " ".repeat(6 + label.length + 1);
  return [`      ${label} ${first ?? ""}`, ...rest.map((line) => `${pad}${line}`)];
}

export const doctorCommand: Command = createDoctorCommand();
