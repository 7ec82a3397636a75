/**
 * The configured sinks, built once from `Config.alerts.sinks`. Order is stable
 * (webhook, Slack, Teams, PagerDuty) so logs and reports read the same every pass.
 */
import type { SinkConfig } from "../../config.js";
import { createPagerDutySink } from "./pagerduty.js";
import { rememberSecret } from "../../redaction.js";
import type { Sink } from "./sink.js";
import { createSlackSink } from "./slack.js";
import { createTeamsSink } from "./teams.js";
import { createWebhookSink } from "./webhook.js";

export function createSinks(config: SinkConfig): Sink[] {
  const sinks: Sink[] = [];
  if (config.webhook !== undefined) sinks.push(createWebhookSink(config.webhook));
  if (config.slackUrl !== undefined) sinks.push(createSlackSink(config.slackUrl));
  if (config.teamsUrl !== undefined) sinks.push(createTeamsSink(config.teamsUrl));
  if (config.pagerDuty !== undefined) sinks.push(createPagerDutySink(config.pagerDuty));
  // A sink URL's path token alone is a credential too: no output anywhere may show it.
  for (const sink of sinks) rememberSecret(...sink.secrets);
  return sinks;
}
