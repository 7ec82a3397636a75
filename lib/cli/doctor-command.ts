/**
 * `watchdog doctor`'s name, help and options. What it does is in doctor-run.ts, imported when it
 * runs, so `watchdog --help` and the other commands never load the checks.
 */
import type { Command } from "./main.js";
import type { DoctorCommandOptions } from "./doctor-run.js";
import { DOCTOR_SCHEMA } from "../doctor/doctor-schema.js";

/** Builds `watchdog doctor`; `doctorCommand` is the production instance. */
export function createDoctorCommand(options: DoctorCommandOptions = {}): Command {
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

With --json every mode and every exit path prints one document with
"schema", "problems" and "exitCode".

Exit: doctor 0 all pass · 1 any warn or fail; --secret 0 accepted · 1 not;
--explain 0 recognised · 1 not; 2 bad usage or configuration, or the
watchdog's own credential (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET) refused;
3 Nylas or Microsoft unreachable or refusing.`,
    options: {
      json: { type: "boolean" },
      secret: { type: "boolean" },
      explain: { type: "string" },
      "probe-regions": { type: "boolean" },
    },
    async run(context) {
      const { runDoctorCommand } = await import("./doctor-run.js");
      return runDoctorCommand(context, options);
    },
  };
}

export const doctorCommand: Command = createDoctorCommand();
