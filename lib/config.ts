/**
 * The one reader of settings (`../shared/CONTRACT.md`, "Settings"). Validates
 * everything once and reports every problem with its fix in one ConfigError, so
 * a misconfigured deployment is fixed in one edit, not one restart per typo.
 */
import { Cron } from "croner";
import { ConfigError, type ConfigProblem } from "./errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface SinkConfig {
  webhook?: { url: string; secret?: string };
  slackUrl?: string;
  teamsUrl?: string;
  pagerDuty?: { routingKey: string; eventsUrl: string };
}

export type StateConfig =
  | { kind: "table"; connectionString: string }
  /** Identity-based (the Functions convention `AzureWebJobsStorage__accountName` / `__tableServiceUri`). */
  | { kind: "table-identity"; tableServiceUri: string; clientId: string | undefined }
  | { kind: "file"; dir: string };

export interface Config {
  nylas: {
    apiKey: string;
    apiUri: string;
    /** Unset: the webhook endpoint refuses every POST (fail closed). */
    webhookSecret: string | undefined;
    webhookPublicUrl: string | undefined;
    /** Nylas application id; with `reauthRedirectUri`, re-auth links can be built. */
    clientId: string | undefined;
    reauthRedirectUri: string | undefined;
  };
  azure: {
    tenantId: string;
    /** With `clientSecret`: an admin service principal. Without: picks a user-assigned managed identity. */
    clientId: string | undefined;
    clientSecret: string | undefined;
    authorityHost: string;
    graphEndpoint: string;
  };
  /** More app registrations to watch (never rotated); "*" = every app the identity can read. */
  watchAppIds: string[] | "*";
  rotation: {
    mode: "auto" | "off";
    rotateBeforeDays: number;
    secretLifetimeDays: number;
    retireGraceHours: number;
    /** With sign-in evidence: a superseded secret must have been quiet this long after the switch. */
    retireQuietHours: number;
    /** With sign-in evidence: re-authentication requests wait this long after a switch. */
    reauthDeferHours: number;
    /** Without evidence: sign-ins this soon after a switch still count as on the old secret. */
    switchMarginMinutes: number;
    propagationTimeoutSeconds: number;
  };
  alerts: {
    alertBeforeDays: number;
    repeatHours: number;
    /** PagerDuty receives only incidents at or above this severity. */
    pagerDutyMinSeverity: "critical" | "warning" | "info";
    sinks: SinkConfig;
  };
  state: StateConfig;
  schedules: { watchdog: string; grantSweep: string };
  /** Every secret-bearing setting value, for the log redactor. */
  secretValues: string[];
}

export const DEFAULTS = {
  NYLAS_API_URI: "https://api.us.nylas.com",
  AZURE_AUTHORITY_HOST: "https://login.microsoftonline.com",
  GRAPH_ENDPOINT: "https://graph.microsoft.com",
  ROTATION: "auto",
  ROTATE_BEFORE_DAYS: 60,
  SECRET_LIFETIME_DAYS: 180,
  RETIRE_GRACE_HOURS: 24,
  RETIRE_QUIET_HOURS: 72,
  REAUTH_DEFER_HOURS: 72,
  SWITCH_MARGIN_MINUTES: 60,
  ALERT_BEFORE_DAYS: 14,
  PROPAGATION_TIMEOUT_SECONDS: 240,
  ALERT_REPEAT_HOURS: 24,
  PAGERDUTY_MIN_SEVERITY: "critical",
  PAGERDUTY_EVENTS_URL: "https://events.pagerduty.com/v2/enqueue",
  WATCHDOG_STATE_DIR: ".watchdog",
  WATCHDOG_SCHEDULE: "0 0 */6 * * *",
  GRANT_SWEEP_SCHEDULE: "0 */30 * * * *",
} as const;

/** Every setting the contract defines, for docs and the infra sync test. */
export const SETTING_NAMES = [
  "NYLAS_API_KEY",
  "NYLAS_API_URI",
  "NYLAS_WEBHOOK_SECRET",
  "WEBHOOK_PUBLIC_URL",
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "AZURE_AUTHORITY_HOST",
  "GRAPH_ENDPOINT",
  "WATCH_APP_IDS",
  "ROTATION",
  "ROTATE_BEFORE_DAYS",
  "SECRET_LIFETIME_DAYS",
  "RETIRE_GRACE_HOURS",
  "RETIRE_QUIET_HOURS",
  "REAUTH_DEFER_HOURS",
  "SWITCH_MARGIN_MINUTES",
  "NYLAS_CLIENT_ID",
  "REAUTH_REDIRECT_URI",
  "ALERT_BEFORE_DAYS",
  "PROPAGATION_TIMEOUT_SECONDS",
  "ALERT_WEBHOOK_URL",
  "ALERT_WEBHOOK_SECRET",
  "SLACK_WEBHOOK_URL",
  "TEAMS_WEBHOOK_URL",
  "PAGERDUTY_ROUTING_KEY",
  "PAGERDUTY_EVENTS_URL",
  "ALERT_REPEAT_HOURS",
  "PAGERDUTY_MIN_SEVERITY",
  // Also read: the Functions platform's identity-based form AzureWebJobsStorage__accountName /
  // __tableServiceUri / __clientId, and WEBSITE_INSTANCE_ID (set by Azure) — platform settings, not ours.
  "AzureWebJobsStorage",
  "WATCHDOG_STATE_DIR",
  "WATCHDOG_SCHEDULE",
  "GRANT_SWEEP_SCHEDULE",
] as const;

/** Shorter than this is no Nylas webhook secret (they are long random strings). */
const MIN_WEBHOOK_SECRET_CHARS = 16;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entra also accepts a verified domain as tenant ("contoso.onmicrosoft.com"). */
const TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;

class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  problem(setting: string, problem: string, fix: string): void {
    this.problems.push({ setting, problem, fix });
  }

  required(name: string, fix: string): string {
    const value = this.raw(name);
    if (value === undefined) {
      this.problem(name, "is not set.", fix);
      return "";
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number, unit: string): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) {
      this.problem(
        name,
        `"${value}" is not a whole number.`,
        `Set it to a whole number of ${unit} from ${min} to ${max} (default ${fallback}).`,
      );
      return fallback;
    }
    const n = Number(value);
    if (n < min || n > max) {
      this.problem(
        name,
        `${n} is out of range.`,
        `Set it to a whole number of ${unit} from ${min} to ${max} (default ${fallback}).`,
      );
      return fallback;
    }
    return n;
  }

  /**
   * An https URL. `pathAllowed` false requires a bare origin (API roots);
   * `loopbackHttp` allows http://localhost (a developer's re-auth callback).
   */
  url(
    name: string,
    value: string | undefined,
    options: { origin?: boolean; loopbackHttp?: boolean; secret?: boolean } = {},
  ): string | undefined {
    if (value === undefined) return undefined;
    const shown = options.secret ? "the value" : `"${value}"`;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.problem(name, `${shown} is not a URL.`, `Set it to a full https:// URL.`);
      return undefined;
    }
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname);
    if (parsed.protocol !== "https:" && !(options.loopbackHttp && loopback && parsed.protocol === "http:")) {
      this.problem(
        name,
        `${options.secret ? "the URL" : `"${value}"`} uses ${parsed.protocol.replace(":", "")}; only https is allowed (credentials travel on it).`,
        `Use the https:// address${options.secret ? "" : ` (https://${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname})`}.`,
      );
      return undefined;
    }
    if (options.origin) {
      if (parsed.search !== "" || parsed.hash !== "" || (parsed.pathname !== "/" && parsed.pathname !== "")) {
        this.problem(
          name,
          `"${value}" has a path or query.`,
          `Give the root only, e.g. https://${parsed.host}.`,
        );
      }
      return `${parsed.protocol}//${parsed.host}`;
    }
    return value;
  }

  schedule(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    const fields = value.split(/\s+/);
    const fix = `Use a 6-field NCRONTAB expression "{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "${fallback}".`;
    if (/^\d{1,2}:\d{2}:\d{2}$/.test(value)) {
      this.problem(
        name,
        `"${value}" is a TimeSpan, which the Consumption and Flex plans do not support.`,
        fix,
      );
      return fallback;
    }
    if (fields.length !== 6) {
      this.problem(
        name,
        `"${value}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; Azure Functions needs 6 (seconds first)` +
          (fields.length === 5 ? ` — this looks like a 5-field Unix cron: prefix it with "0 "` : "") +
          ".",
        fix,
      );
      return fallback;
    }
    try {
      // A pattern that parses but never fires (31 February) would leave the timer silent for good.
      if (new Cron(value, { paused: true }).nextRun() === null) {
        this.problem(name, `"${value}" never fires (no such date).`, fix);
        return fallback;
      }
    } catch (error) {
      this.problem(
        name,
        `"${value}" does not parse: ${(error as Error).message.replace(/^CronPattern: /, "")}.`,
        fix,
      );
      return fallback;
    }
    return value;
  }
}

/**
 * Reads and validates the settings. Throws ConfigError naming every problem.
 * `env` defaults to `process.env`; nothing else in the project reads it.
 */
export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);

  const apiKey = r.required(
    "NYLAS_API_KEY",
    "Create an API key in the Nylas Dashboard (API Keys) and set NYLAS_API_KEY to it.",
  );
  const apiUri =
    r.url("NYLAS_API_URI", r.raw("NYLAS_API_URI") ?? DEFAULTS.NYLAS_API_URI, { origin: true }) ??
    DEFAULTS.NYLAS_API_URI;
  const tenantId = r.required(
    "AZURE_TENANT_ID",
    "Set it to the Directory (tenant) ID that owns the app registration (Entra ID → Overview).",
  );
  if (tenantId !== "" && !TENANT.test(tenantId)) {
    r.problem(
      "AZURE_TENANT_ID",
      `"${tenantId}" is neither a GUID nor a domain.`,
      "Use the Directory (tenant) ID GUID from Entra ID → Overview.",
    );
  }
  const azureClientId = r.raw("AZURE_CLIENT_ID");
  if (azureClientId !== undefined && !GUID.test(azureClientId)) {
    r.problem(
      "AZURE_CLIENT_ID",
      `"${azureClientId}" is not a GUID.`,
      "Use the Application (client) ID GUID.",
    );
  }
  const azureClientSecret = r.raw("AZURE_CLIENT_SECRET");
  if (azureClientSecret !== undefined && azureClientId === undefined) {
    r.problem(
      "AZURE_CLIENT_SECRET",
      "is set but AZURE_CLIENT_ID is not: a secret belongs to a service principal.",
      "Set AZURE_CLIENT_ID to that service principal's Application (client) ID, or remove AZURE_CLIENT_SECRET to use the managed identity.",
    );
  }
  const authorityHost =
    r.url("AZURE_AUTHORITY_HOST", r.raw("AZURE_AUTHORITY_HOST") ?? DEFAULTS.AZURE_AUTHORITY_HOST, {
      origin: true,
    }) ?? DEFAULTS.AZURE_AUTHORITY_HOST;
  const graphEndpoint =
    r.url("GRAPH_ENDPOINT", r.raw("GRAPH_ENDPOINT") ?? DEFAULTS.GRAPH_ENDPOINT, { origin: true }) ??
    DEFAULTS.GRAPH_ENDPOINT;

  let watchAppIds: string[] | "*" = [];
  const watchRaw = r.raw("WATCH_APP_IDS");
  if (watchRaw === "*") watchAppIds = "*";
  else if (watchRaw !== undefined) {
    const ids = [
      ...new Set(
        watchRaw
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      ),
    ];
    const bad = ids.filter((id) => !GUID.test(id));
    if (bad.length > 0) {
      r.problem(
        "WATCH_APP_IDS",
        `not an application (client) ID: ${bad.map((b) => `"${b}"`).join(", ")}.`,
        'List Application (client) ID GUIDs separated by commas, or "*" for every app the identity can read.',
      );
    }
    watchAppIds = ids.filter((id) => GUID.test(id)).map((id) => id.toLowerCase());
  }

  const rotationRaw = (r.raw("ROTATION") ?? DEFAULTS.ROTATION).toLowerCase();
  if (rotationRaw !== "auto" && rotationRaw !== "off") {
    r.problem(
      "ROTATION",
      `"${r.raw("ROTATION")}" is not a mode.`,
      'Set it to "auto" (rotate) or "off" (watch and alert only).',
    );
  }
  const rotateBeforeDays = r.int("ROTATE_BEFORE_DAYS", DEFAULTS.ROTATE_BEFORE_DAYS, 1, 365, "days");
  // Entra caps client secrets at 24 months.
  const secretLifetimeDays = r.int("SECRET_LIFETIME_DAYS", DEFAULTS.SECRET_LIFETIME_DAYS, 2, 730, "days");
  const retireGraceHours = r.int("RETIRE_GRACE_HOURS", DEFAULTS.RETIRE_GRACE_HOURS, 0, 8760, "hours");
  // Nylas refreshes Microsoft tokens about hourly, and Entra's sign-in report lags: under a day of
  // quiet proves nothing, so the floor is 24 h.
  const retireQuietHours = r.int("RETIRE_QUIET_HOURS", DEFAULTS.RETIRE_QUIET_HOURS, 24, 8760, "hours");
  const reauthDeferHours = r.int("REAUTH_DEFER_HOURS", DEFAULTS.REAUTH_DEFER_HOURS, 0, 8760, "hours");
  // Nylas: a new connector secret "can take up to an hour" to be used everywhere.
  const switchMarginMinutes = r.int(
    "SWITCH_MARGIN_MINUTES",
    DEFAULTS.SWITCH_MARGIN_MINUTES,
    1,
    1440,
    "minutes",
  );
  const alertBeforeDays = r.int("ALERT_BEFORE_DAYS", DEFAULTS.ALERT_BEFORE_DAYS, 0, 365, "days");
  const propagationTimeoutSeconds = r.int(
    "PROPAGATION_TIMEOUT_SECONDS",
    DEFAULTS.PROPAGATION_TIMEOUT_SECONDS,
    1,
    3600,
    "seconds",
  );
  const repeatHours = r.int("ALERT_REPEAT_HOURS", DEFAULTS.ALERT_REPEAT_HOURS, 1, 8760, "hours");
  // PagerDuty pages a person: by default only incidents a human must act on now (critical).
  const pagerDutyMinRaw = (r.raw("PAGERDUTY_MIN_SEVERITY") ?? DEFAULTS.PAGERDUTY_MIN_SEVERITY).toLowerCase();
  if (pagerDutyMinRaw !== "critical" && pagerDutyMinRaw !== "warning" && pagerDutyMinRaw !== "info") {
    r.problem(
      "PAGERDUTY_MIN_SEVERITY",
      `"${r.raw("PAGERDUTY_MIN_SEVERITY")}" is not a severity.`,
      'Set it to "critical" (the default: page only when a human must act now), "warning" or "info".',
    );
  }
  const pagerDutyMinSeverity =
    pagerDutyMinRaw === "warning" || pagerDutyMinRaw === "info" ? pagerDutyMinRaw : "critical";

  if (!(alertBeforeDays < rotateBeforeDays)) {
    r.problem(
      "ALERT_BEFORE_DAYS",
      `${alertBeforeDays} is not below ROTATE_BEFORE_DAYS (${rotateBeforeDays}): on-call would be paged before rotation had a chance.`,
      "Make ALERT_BEFORE_DAYS < ROTATE_BEFORE_DAYS (defaults 14 and 60).",
    );
  }
  if (!(rotateBeforeDays < secretLifetimeDays)) {
    r.problem(
      "ROTATE_BEFORE_DAYS",
      `${rotateBeforeDays} is not below SECRET_LIFETIME_DAYS (${secretLifetimeDays}): every new secret would be due for rotation at once.`,
      "Make ROTATE_BEFORE_DAYS < SECRET_LIFETIME_DAYS (defaults 60 and 180).",
    );
  }

  const webhookSecret = r.raw("NYLAS_WEBHOOK_SECRET");
  // Nylas issues long random webhook secrets; a short one is a typo or a placeholder, and an HMAC keyed with
  // it can be guessed. (Its value is never echoed: only its length.)
  if (webhookSecret !== undefined && webhookSecret.trim().length < MIN_WEBHOOK_SECRET_CHARS) {
    r.problem(
      "NYLAS_WEBHOOK_SECRET",
      `is ${webhookSecret.trim().length} characters long; a Nylas webhook secret is far longer.`,
      "Set it to the webhook_secret Nylas returned when the webhook was created (or rotate it: POST /v3/webhooks/rotate-secret/{id}).",
    );
  }
  // http only on loopback: `watchdog serve` on a developer's machine.
  const webhookPublicUrl = r.url("WEBHOOK_PUBLIC_URL", r.raw("WEBHOOK_PUBLIC_URL"), { loopbackHttp: true });
  const nylasClientId = r.raw("NYLAS_CLIENT_ID");
  const reauthRedirectUri = r.url("REAUTH_REDIRECT_URI", r.raw("REAUTH_REDIRECT_URI"), {
    loopbackHttp: true,
  });
  if ((nylasClientId === undefined) !== (r.raw("REAUTH_REDIRECT_URI") === undefined)) {
    r.problem(
      nylasClientId === undefined ? "NYLAS_CLIENT_ID" : "REAUTH_REDIRECT_URI",
      "is not set, but its partner is: re-authentication links need both.",
      "Set NYLAS_CLIENT_ID (the Nylas application id) and REAUTH_REDIRECT_URI (a callback registered with that application) together, or neither.",
    );
  }

  const sinks: SinkConfig = {};
  const alertWebhookUrl = r.url("ALERT_WEBHOOK_URL", r.raw("ALERT_WEBHOOK_URL"), {
    secret: true,
    loopbackHttp: false,
  });
  const alertWebhookSecret = r.raw("ALERT_WEBHOOK_SECRET");
  if (alertWebhookUrl !== undefined) {
    sinks.webhook =
      alertWebhookSecret === undefined
        ? { url: alertWebhookUrl }
        : { url: alertWebhookUrl, secret: alertWebhookSecret };
  } else if (alertWebhookSecret !== undefined) {
    r.problem(
      "ALERT_WEBHOOK_SECRET",
      "is set but ALERT_WEBHOOK_URL is not.",
      "Set ALERT_WEBHOOK_URL to the receiver, or remove the secret.",
    );
  }
  const slackUrl = r.url("SLACK_WEBHOOK_URL", r.raw("SLACK_WEBHOOK_URL"), { secret: true });
  if (slackUrl !== undefined) sinks.slackUrl = slackUrl;
  const teamsUrl = r.url("TEAMS_WEBHOOK_URL", r.raw("TEAMS_WEBHOOK_URL"), { secret: true });
  if (teamsUrl !== undefined) sinks.teamsUrl = teamsUrl;
  const routingKey = r.raw("PAGERDUTY_ROUTING_KEY");
  const eventsUrl =
    r.url("PAGERDUTY_EVENTS_URL", r.raw("PAGERDUTY_EVENTS_URL") ?? DEFAULTS.PAGERDUTY_EVENTS_URL) ??
    DEFAULTS.PAGERDUTY_EVENTS_URL;
  if (routingKey !== undefined) {
    if (!/^[A-Za-z0-9]{32}$/.test(routingKey)) {
      r.problem(
        "PAGERDUTY_ROUTING_KEY",
        "is not a 32-character integration key.",
        "Copy the Integration Key of an Events API v2 integration (Service → Integrations).",
      );
    }
    sinks.pagerDuty = { routingKey, eventsUrl };
  }

  const storage = r.raw("AzureWebJobsStorage");
  const accountName = r.raw("AzureWebJobsStorage__accountName");
  const tableServiceUri = r.url(
    "AzureWebJobsStorage__tableServiceUri",
    r.raw("AzureWebJobsStorage__tableServiceUri") ??
      (accountName === undefined ? undefined : `https://${accountName}.table.core.windows.net`),
    { origin: true },
  );
  if (accountName !== undefined && !/^[a-z0-9]{3,24}$/.test(accountName)) {
    r.problem(
      "AzureWebJobsStorage__accountName",
      `"${accountName}" is not a storage account name.`,
      "Use the account's name: 3 to 24 lower-case letters and digits.",
    );
  }
  let state: StateConfig;
  if (storage !== undefined) state = { kind: "table", connectionString: storage };
  else if (tableServiceUri !== undefined) {
    state = { kind: "table-identity", tableServiceUri, clientId: r.raw("AzureWebJobsStorage__clientId") };
  } else {
    state = { kind: "file", dir: r.raw("WATCHDOG_STATE_DIR") ?? DEFAULTS.WATCHDOG_STATE_DIR };
    // In Azure a directory is the instance's own disk: neither shared between instances nor kept across
    // restarts. Leases, de-duplication and rotation records would silently vanish.
    if (r.raw("WEBSITE_INSTANCE_ID") !== undefined) {
      r.problem(
        "AzureWebJobsStorage",
        "is not set (nor AzureWebJobsStorage__accountName) while running in Azure: state would live on the instance's local disk and be lost.",
        "Set AzureWebJobsStorage__accountName (managed identity with Storage Table Data Contributor) or AzureWebJobsStorage (a connection string).",
      );
    }
  }

  const schedules = {
    watchdog: r.schedule("WATCHDOG_SCHEDULE", DEFAULTS.WATCHDOG_SCHEDULE),
    grantSweep: r.schedule("GRANT_SWEEP_SCHEDULE", DEFAULTS.GRANT_SWEEP_SCHEDULE),
  };

  if (r.problems.length > 0) throw new ConfigError(r.problems);

  const secretValues = [
    apiKey,
    webhookSecret,
    azureClientSecret,
    alertWebhookSecret,
    routingKey,
    slackUrl,
    teamsUrl,
    alertWebhookUrl,
    storage,
  ].filter((v): v is string => v !== undefined && v !== "");

  return {
    nylas: { apiKey, apiUri, webhookSecret, webhookPublicUrl, clientId: nylasClientId, reauthRedirectUri },
    azure: {
      tenantId,
      clientId: azureClientId,
      clientSecret: azureClientSecret,
      authorityHost,
      graphEndpoint,
    },
    watchAppIds,
    rotation: {
      mode: rotationRaw === "off" ? "off" : "auto",
      rotateBeforeDays,
      secretLifetimeDays,
      retireGraceHours,
      retireQuietHours,
      reauthDeferHours,
      switchMarginMinutes,
      propagationTimeoutSeconds,
    },
    alerts: { alertBeforeDays, repeatHours, pagerDutyMinSeverity, sinks },
    state,
    schedules,
    secretValues,
  };
}
