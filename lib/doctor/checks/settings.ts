import { DAY_MS, HOUR_MS } from "../../clock.js";
import { errorMessage } from "../../errors.js";
import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { sources } from "../sources.js";
import { longestGapMs } from "../../utc-schedule.js";

function human(ms: number): string {
  if (ms >= DAY_MS) return `${Math.round((ms / DAY_MS) * 10) / 10} days`;
  if (ms >= HOUR_MS) return `${Math.round((ms / HOUR_MS) * 10) / 10} hours`;
  return `${Math.round(ms / 60_000)} minutes`;
}

/**
 * settings.sanity: someone gets paged (at least one alert sink), the day
 * thresholds leave rotation room before paging, and the schedules parse and
 * run often enough for those thresholds.
 */
export function checkSettings(ctx: DoctorContext): Promise<CheckOutcome> {
  const { config } = ctx;
  const now = ctx.clock.now();
  const findings: { status: "warn" | "fail"; summary: string; fix: string }[] = [];
  const notes: string[] = [];

  const sinks = config.alerts.sinks;
  const configured = [
    sinks.webhook ? "generic webhook" : undefined,
    sinks.slackUrl ? "Slack" : undefined,
    sinks.teamsUrl ? "Teams" : undefined,
    sinks.pagerDuty ? "PagerDuty" : undefined,
  ].filter((s): s is string => s !== undefined);
  if (configured.length === 0) {
    findings.push({
      status: "warn",
      summary: "No alert sink is configured: incidents are recorded, but nobody is paged.",
      fix: "Set at least one of SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY or ALERT_WEBHOOK_URL.",
    });
  } else notes.push(`alerts go to ${configured.join(", ")}`);

  const { alertBeforeDays } = config.alerts;
  const { rotateBeforeDays, secretLifetimeDays, mode } = config.rotation;
  if (!(alertBeforeDays < rotateBeforeDays && rotateBeforeDays < secretLifetimeDays)) {
    findings.push({
      status: "fail",
      summary: `Thresholds out of order: ALERT_BEFORE_DAYS=${alertBeforeDays}, ROTATE_BEFORE_DAYS=${rotateBeforeDays}, SECRET_LIFETIME_DAYS=${secretLifetimeDays}.`,
      fix: "Keep ALERT_BEFORE_DAYS < ROTATE_BEFORE_DAYS < SECRET_LIFETIME_DAYS (defaults 14 < 60 < 180).",
    });
  } else {
    notes.push(
      `rotate ${rotateBeforeDays} days before expiry, page ${alertBeforeDays} days before, new secrets live ${secretLifetimeDays} days`,
    );
  }

  for (const [name, pattern] of [
    ["WATCHDOG_SCHEDULE", config.schedules.watchdog],
    ["GRANT_SWEEP_SCHEDULE", config.schedules.grantSweep],
  ] as const) {
    let gap: number;
    try {
      // A schedule that runs fewer than twice has no gap to judge: 0, nothing to warn of.
      gap = longestGapMs(pattern, now) ?? 0;
    } catch (error) {
      findings.push({
        status: "fail",
        summary: `${name} "${pattern}" does not parse: ${errorMessage(error)}.`,
        fix: `Use a 6-field NCRONTAB expression "{second} {minute} {hour} {day} {month} {day-of-week}".`,
      });
      continue;
    }
    if (name === "WATCHDOG_SCHEDULE" && mode === "auto") {
      // Rotation needs at least one run between "due" and "page on-call", better several (Entra may be slow).
      const windowMs = (rotateBeforeDays - alertBeforeDays) * DAY_MS;
      if (gap * 3 > windowMs) {
        findings.push({
          status: "warn",
          summary: `${name} "${pattern}" runs only every ${human(gap)}, leaving few tries in the ${rotateBeforeDays - alertBeforeDays} days between rotation and paging.`,
          fix: `Run it more often (default "0 0 */6 * * *") or widen ROTATE_BEFORE_DAYS − ALERT_BEFORE_DAYS.`,
        });
        continue;
      }
    }
    notes.push(`${name} every ${human(gap)}`);
  }

  if (mode === "off") notes.push("ROTATION=off: watch and alert only");
  if (config.nylas.clientId === undefined || config.nylas.reauthRedirectUri === undefined)
    notes.push("no NYLAS_CLIENT_ID/REAUTH_REDIRECT_URI: alerts carry no re-authentication links");
  else
    notes.push(
      `re-authentication links return to ${config.nylas.reauthRedirectUri}, which must be your application's callback that exchanges the code at POST /v3/connect/token: Nylas verifies the grant only after that exchange (Nylas docs, "Creating grants with Hosted Authentication and an API key", https://developer.nylas.com/docs/v3/auth/hosted-oauth-apikey/; example: docs/reauth-callback.md)`,
    );

  const details = {
    sinks: configured,
    thresholds: { alertBeforeDays, rotateBeforeDays, secretLifetimeDays },
    schedules: config.schedules,
    rotation: mode,
  };
  if (findings.length === 0)
    return Promise.resolve(pass(`Settings are consistent: ${notes.join("; ")}.`, details));
  return Promise.resolve(
    problem(
      findings.some((f) => f.status === "fail") ? "fail" : "warn",
      findings.map((f) => f.summary).join(" "),
      findings.map((f) => f.fix).join("\n"),
      sources("contract"),
      details,
    ),
  );
}
