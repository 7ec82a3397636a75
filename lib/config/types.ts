/** The shape `loadConfig` returns: every setting validated, defaulted and grouped by what uses it. */
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
