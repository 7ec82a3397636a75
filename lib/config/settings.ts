/**
 * Every setting, in the contract's order (problems are listed in it), then the rules that relate
 * settings to each other. The bounds' reasons sit beside them.
 */
import * as z from "zod/mini";
import { DEFAULTS } from "./defaults.js";
import {
  GUID,
  appIds,
  keepRaw,
  matching,
  oneOf,
  required,
  says,
  schedule,
  setting,
  text,
  wholeNumber,
  type SettingProblem,
  type SettingValue,
} from "./fields.js";
import { optionalUrl, urlOr } from "./url.js";
import { MAX_PROPAGATION_TIMEOUT_SECONDS } from "./function-timeout.js";
import type { ConfigProblem } from "../errors.js";
import type { Env } from "./types.js";

/** Entra also accepts a verified domain as tenant ("contoso.onmicrosoft.com"). */
const TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;

/** Shorter than this is no Nylas webhook secret (they are long random strings). */
const MIN_WEBHOOK_SECRET_CHARS = 16;

const shape = {
  NYLAS_API_KEY: required("Create an API key in the Nylas Dashboard (API Keys) and set NYLAS_API_KEY to it."),
  NYLAS_API_URI: urlOr(DEFAULTS.NYLAS_API_URI, { origin: true }),
  AZURE_TENANT_ID: required(
    "Set it to the Directory (tenant) ID that owns the app registration (Entra ID → Overview).",
    () =>
      z.string().check(
        z.refine(
          (v) => TENANT.test(v),
          says(
            (v) => `"${v}" is neither a GUID nor a domain.`,
            "Use the Directory (tenant) ID GUID from Entra ID → Overview.",
          ),
        ),
      ),
  ),
  AZURE_CLIENT_ID: matching(GUID, (v) => `"${v}" is not a GUID.`, "Use the Application (client) ID GUID."),
  AZURE_CLIENT_SECRET: text(),
  AZURE_AUTHORITY_HOST: urlOr(DEFAULTS.AZURE_AUTHORITY_HOST, { origin: true }),
  GRAPH_ENDPOINT: urlOr(DEFAULTS.GRAPH_ENDPOINT, { origin: true }),
  WATCH_APP_IDS: appIds(),
  ROTATION: oneOf(
    ["auto", "off"],
    DEFAULTS.ROTATION,
    (v) => `"${v}" is not a mode.`,
    'Set it to "auto" (rotate) or "off" (watch and alert only).',
  ),
  ROTATE_BEFORE_DAYS: wholeNumber(DEFAULTS.ROTATE_BEFORE_DAYS, 1, 365, "days"),
  // Entra caps client secrets at 24 months.
  SECRET_LIFETIME_DAYS: wholeNumber(DEFAULTS.SECRET_LIFETIME_DAYS, 2, 730, "days"),
  RETIRE_GRACE_HOURS: wholeNumber(DEFAULTS.RETIRE_GRACE_HOURS, 0, 8760, "hours"),
  // Nylas refreshes Microsoft tokens about hourly, and Entra's sign-in report lags: under a day of
  // quiet proves nothing, so the floor is 24 h.
  RETIRE_QUIET_HOURS: wholeNumber(DEFAULTS.RETIRE_QUIET_HOURS, 24, 8760, "hours"),
  REAUTH_DEFER_HOURS: wholeNumber(DEFAULTS.REAUTH_DEFER_HOURS, 0, 8760, "hours"),
  // Nylas: a new connector secret "can take up to an hour" to be used everywhere.
  SWITCH_MARGIN_MINUTES: wholeNumber(DEFAULTS.SWITCH_MARGIN_MINUTES, 1, 1440, "minutes"),
  ALERT_BEFORE_DAYS: wholeNumber(DEFAULTS.ALERT_BEFORE_DAYS, 0, 365, "days"),
  // A proof must fit inside one pass, which the host stops at host.json's functionTimeout.
  PROPAGATION_TIMEOUT_SECONDS: wholeNumber(
    DEFAULTS.PROPAGATION_TIMEOUT_SECONDS,
    1,
    MAX_PROPAGATION_TIMEOUT_SECONDS,
    "seconds",
  ),
  ALERT_REPEAT_HOURS: wholeNumber(DEFAULTS.ALERT_REPEAT_HOURS, 1, 8760, "hours"),
  // PagerDuty pages a person: by default only incidents a human must act on now (critical).
  PAGERDUTY_MIN_SEVERITY: oneOf(
    ["critical", "warning", "info"],
    DEFAULTS.PAGERDUTY_MIN_SEVERITY,
    (v) => `"${v}" is not a severity.`,
    'Set it to "critical" (the default: page only when a human must act now), "warning" or "info".',
  ),
  // Nylas issues long random webhook secrets; a short one is a typo or a placeholder, and an HMAC keyed
  // with it can be guessed. Its value is never echoed: only its length.
  NYLAS_WEBHOOK_SECRET: setting(
    () =>
      z.string().check(
        z.minLength(MIN_WEBHOOK_SECRET_CHARS, {
          error: (i) =>
            `is ${typeof i.input === "string" ? i.input.length : "?"} characters long; a Nylas webhook secret is far longer.`,
        }),
      ),
    {
      fallback: keepRaw,
      fix: "Set it to the webhook_secret Nylas returned when the webhook was created (or rotate it: POST /v3/webhooks/rotate-secret/{id}).",
    },
  ),
  // http only on loopback: `watchdog serve` on a developer's machine.
  WEBHOOK_PUBLIC_URL: optionalUrl({ loopbackHttp: true }),
  NYLAS_CLIENT_ID: text(),
  REAUTH_REDIRECT_URI: optionalUrl({ loopbackHttp: true }),
  ALERT_WEBHOOK_URL: optionalUrl({ secret: true }),
  ALERT_WEBHOOK_SECRET: text(),
  SLACK_WEBHOOK_URL: optionalUrl({ secret: true }),
  TEAMS_WEBHOOK_URL: optionalUrl({ secret: true }),
  PAGERDUTY_EVENTS_URL: urlOr(DEFAULTS.PAGERDUTY_EVENTS_URL),
  PAGERDUTY_ROUTING_KEY: matching(
    /^[A-Za-z0-9]{32}$/,
    () => "is not a 32-character integration key.",
    "Copy the Integration Key of an Events API v2 integration (Service → Integrations).",
  ),
  AzureWebJobsStorage: text(),
  AzureWebJobsStorage__tableServiceUri: optionalUrl({ origin: true }),
  AzureWebJobsStorage__accountName: matching(
    /^[a-z0-9]{3,24}$/,
    (v) => `"${v}" is not a storage account name.`,
    "Use the account's name: 3 to 24 lower-case letters and digits.",
  ),
  AzureWebJobsStorage__clientId: text(),
  WATCHDOG_STATE_DIR: text(),
  /** Set by Azure on every instance: tells the watchdog it runs in Azure. */
  WEBSITE_INSTANCE_ID: text(),
  WATCHDOG_SCHEDULE: schedule(DEFAULTS.WATCHDOG_SCHEDULE),
  GRANT_SWEEP_SCHEDULE: schedule(DEFAULTS.GRANT_SWEEP_SCHEDULE),
};

export type Settings = { [K in keyof typeof shape]: SettingValue<(typeof shape)[K]> };

type Problem = (setting: keyof Settings, problem: string, fix: string) => void;

/**
 * The rules between settings. Each setting that failed on its own reads here as its fallback (see
 * `setting`), so these run, and report, whatever else is wrong.
 */
function crossCheck(s: Settings, problem: Problem): void {
  if (s.AZURE_CLIENT_SECRET !== undefined && s.AZURE_CLIENT_ID === undefined) {
    problem(
      "AZURE_CLIENT_SECRET",
      "is set but AZURE_CLIENT_ID is not: a secret belongs to a service principal.",
      "Set AZURE_CLIENT_ID to that service principal's Application (client) ID, or remove AZURE_CLIENT_SECRET to use the managed identity.",
    );
  }
  if (!(s.ALERT_BEFORE_DAYS < s.ROTATE_BEFORE_DAYS)) {
    problem(
      "ALERT_BEFORE_DAYS",
      `${s.ALERT_BEFORE_DAYS} is not below ROTATE_BEFORE_DAYS (${s.ROTATE_BEFORE_DAYS}): on-call would be paged before rotation had a chance.`,
      "Make ALERT_BEFORE_DAYS < ROTATE_BEFORE_DAYS (defaults 14 and 60).",
    );
  }
  if (!(s.ROTATE_BEFORE_DAYS < s.SECRET_LIFETIME_DAYS)) {
    problem(
      "ROTATE_BEFORE_DAYS",
      `${s.ROTATE_BEFORE_DAYS} is not below SECRET_LIFETIME_DAYS (${s.SECRET_LIFETIME_DAYS}): every new secret would be due for rotation at once.`,
      "Make ROTATE_BEFORE_DAYS < SECRET_LIFETIME_DAYS (defaults 60 and 180).",
    );
  }
  if ((s.NYLAS_CLIENT_ID === undefined) !== (s.REAUTH_REDIRECT_URI === undefined)) {
    problem(
      s.NYLAS_CLIENT_ID === undefined ? "NYLAS_CLIENT_ID" : "REAUTH_REDIRECT_URI",
      "is not set, but its partner is: re-authentication links need both.",
      "Set NYLAS_CLIENT_ID (the Nylas application id) and REAUTH_REDIRECT_URI (a callback registered with that application) together, or neither.",
    );
  }
  if (s.ALERT_WEBHOOK_SECRET !== undefined && s.ALERT_WEBHOOK_URL === undefined) {
    problem(
      "ALERT_WEBHOOK_SECRET",
      "is set but ALERT_WEBHOOK_URL is not.",
      "Set ALERT_WEBHOOK_URL to the receiver, or remove the secret.",
    );
  }
  const tableStorage =
    s.AzureWebJobsStorage ?? s.AzureWebJobsStorage__tableServiceUri ?? s.AzureWebJobsStorage__accountName;
  // In Azure a directory is the instance's own disk: neither shared between instances nor kept across
  // restarts. Leases, de-duplication and rotation records would silently vanish.
  if (tableStorage === undefined && s.WEBSITE_INSTANCE_ID !== undefined) {
    problem(
      "AzureWebJobsStorage",
      "is not set (nor AzureWebJobsStorage__accountName) while running in Azure: state would live on the instance's local disk and be lost.",
      "Set AzureWebJobsStorage__accountName (managed identity with Storage Table Data Contributor) or AzureWebJobsStorage (a connection string).",
    );
  }
}

/**
 * Every setting read from `env`, with every problem found: each setting's own (in the order above),
 * then the cross-checks', which run on whatever the settings read as, failed ones at their fallback.
 */
export function readSettings(env: Env): { settings: Settings; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const found: SettingProblem[] = [];
  const read: Record<string, unknown> = {};
  for (const [name, one] of Object.entries(shape)) {
    read[name] = one.read(env[name], found);
    for (const { problem, fix } of found.splice(0)) problems.push({ setting: name, problem, fix });
  }
  const settings = read as Settings;
  crossCheck(settings, (setting, problem, fix) => problems.push({ setting, problem, fix }));
  return { settings, problems };
}
