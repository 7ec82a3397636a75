/** Valid settings, grouped into the Config each part of the watchdog reads. */
import { DEFAULTS } from "./defaults.js";
import type { Settings } from "./settings.js";
import type { Config, SinkConfig, StateConfig } from "./types.js";

function sinksOf(s: Settings): SinkConfig {
  const sinks: SinkConfig = {};
  if (s.ALERT_WEBHOOK_URL !== undefined) {
    sinks.webhook =
      s.ALERT_WEBHOOK_SECRET === undefined
        ? { url: s.ALERT_WEBHOOK_URL }
        : { url: s.ALERT_WEBHOOK_URL, secret: s.ALERT_WEBHOOK_SECRET };
  }
  if (s.SLACK_WEBHOOK_URL !== undefined) sinks.slackUrl = s.SLACK_WEBHOOK_URL;
  if (s.TEAMS_WEBHOOK_URL !== undefined) sinks.teamsUrl = s.TEAMS_WEBHOOK_URL;
  if (s.PAGERDUTY_ROUTING_KEY !== undefined) {
    sinks.pagerDuty = { routingKey: s.PAGERDUTY_ROUTING_KEY, eventsUrl: s.PAGERDUTY_EVENTS_URL };
  }
  return sinks;
}

function stateOf(s: Settings): StateConfig {
  if (s.AzureWebJobsStorage !== undefined) return { kind: "table", connectionString: s.AzureWebJobsStorage };
  const accountName = s.AzureWebJobsStorage__accountName;
  const tableServiceUri =
    s.AzureWebJobsStorage__tableServiceUri ??
    (accountName === undefined ? undefined : `https://${accountName}.table.core.windows.net`);
  if (tableServiceUri !== undefined) {
    return { kind: "table-identity", tableServiceUri, clientId: s.AzureWebJobsStorage__clientId };
  }
  return { kind: "file", dir: s.WATCHDOG_STATE_DIR ?? DEFAULTS.WATCHDOG_STATE_DIR };
}

/** Every secret-bearing value, for the log redactor. */
function secretValuesOf(s: Settings): string[] {
  return [
    s.NYLAS_API_KEY,
    s.NYLAS_WEBHOOK_SECRET,
    s.AZURE_CLIENT_SECRET,
    s.ALERT_WEBHOOK_SECRET,
    s.PAGERDUTY_ROUTING_KEY,
    s.SLACK_WEBHOOK_URL,
    s.TEAMS_WEBHOOK_URL,
    s.ALERT_WEBHOOK_URL,
    s.AzureWebJobsStorage,
  ].filter((v): v is string => v !== undefined && v !== "");
}

export function toConfig(s: Settings): Config {
  return {
    nylas: {
      apiKey: s.NYLAS_API_KEY,
      apiUri: s.NYLAS_API_URI,
      webhookSecret: s.NYLAS_WEBHOOK_SECRET,
      webhookPublicUrl: s.WEBHOOK_PUBLIC_URL,
      clientId: s.NYLAS_CLIENT_ID,
      reauthRedirectUri: s.REAUTH_REDIRECT_URI,
    },
    azure: {
      tenantId: s.AZURE_TENANT_ID,
      clientId: s.AZURE_CLIENT_ID,
      clientSecret: s.AZURE_CLIENT_SECRET,
      authorityHost: s.AZURE_AUTHORITY_HOST,
      graphEndpoint: s.GRAPH_ENDPOINT,
    },
    watchAppIds: s.WATCH_APP_IDS,
    rotation: {
      mode: s.ROTATION,
      rotateBeforeDays: s.ROTATE_BEFORE_DAYS,
      secretLifetimeDays: s.SECRET_LIFETIME_DAYS,
      retireGraceHours: s.RETIRE_GRACE_HOURS,
      retireQuietHours: s.RETIRE_QUIET_HOURS,
      reauthDeferHours: s.REAUTH_DEFER_HOURS,
      switchMarginMinutes: s.SWITCH_MARGIN_MINUTES,
      propagationTimeoutSeconds: s.PROPAGATION_TIMEOUT_SECONDS,
    },
    alerts: {
      alertBeforeDays: s.ALERT_BEFORE_DAYS,
      repeatHours: s.ALERT_REPEAT_HOURS,
      pagerDutyMinSeverity: s.PAGERDUTY_MIN_SEVERITY,
      sinks: sinksOf(s),
    },
    state: stateOf(s),
    schedules: { watchdog: s.WATCHDOG_SCHEDULE, grantSweep: s.GRANT_SWEEP_SCHEDULE },
    secretValues: secretValuesOf(s),
  };
}
