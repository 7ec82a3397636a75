/** The wording of loadConfig's problems: each with its fix, all at once, never a secret value. */
import { describe, expect, it } from "vitest";
import { base, problemsOf } from "../helpers/config-problems.js";

describe("loadConfig: problems and their fixes", () => {
  it("words each kind of problem with its fix", () => {
    const problems = problemsOf({
      ...base,
      ROTATE_BEFORE_DAYS: "1.5",
      SECRET_LIFETIME_DAYS: "900",
      ROTATION: "Sometimes",
      NYLAS_API_URI: "http://api.eu.nylas.com/v3",
      AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us/common",
    });
    expect(problems).toEqual([
      {
        setting: "NYLAS_API_URI",
        problem: '"http://api.eu.nylas.com/v3" uses http; only https is allowed (credentials travel on it).',
        fix: "Use the https:// address (https://api.eu.nylas.com/v3).",
      },
      {
        setting: "AZURE_AUTHORITY_HOST",
        problem: '"https://login.microsoftonline.us/common" has a path or query.',
        fix: "Give the root only, e.g. https://login.microsoftonline.us.",
      },
      {
        setting: "ROTATION",
        problem: '"Sometimes" is not a mode.',
        fix: 'Set it to "auto" (rotate) or "off" (watch and alert only).',
      },
      {
        setting: "ROTATE_BEFORE_DAYS",
        problem: '"1.5" is not a whole number.',
        fix: "Set it to a whole number of days from 1 to 365 (default 60).",
      },
      {
        setting: "SECRET_LIFETIME_DAYS",
        problem: "900 is out of range.",
        fix: "Set it to a whole number of days from 2 to 730 (default 180).",
      },
    ]);
  });

  it("tells a missing tenant from a malformed one, each with its own fix", () => {
    expect(problemsOf({ NYLAS_API_KEY: "k", AZURE_TENANT_ID: "  " })).toEqual([
      {
        setting: "AZURE_TENANT_ID",
        problem: "is not set.",
        fix: "Set it to the Directory (tenant) ID that owns the app registration (Entra ID → Overview).",
      },
    ]);
    expect(problemsOf({ NYLAS_API_KEY: "k", AZURE_TENANT_ID: "contoso" })).toEqual([
      {
        setting: "AZURE_TENANT_ID",
        problem: '"contoso" is neither a GUID nor a domain.',
        fix: "Use the Directory (tenant) ID GUID from Entra ID → Overview.",
      },
    ]);
  });

  it("still checks settings against each other when one of them is itself wrong", () => {
    // An unusable ROTATE_BEFORE_DAYS stands at its default (60) for the ordering rule.
    const problems = problemsOf({
      ...base,
      ROTATE_BEFORE_DAYS: "abc",
      ALERT_BEFORE_DAYS: "100",
      GRAPH_ENDPOINT: "x",
    });
    expect(problems.map((p) => p.setting)).toEqual([
      "GRAPH_ENDPOINT",
      "ROTATE_BEFORE_DAYS",
      "ALERT_BEFORE_DAYS",
    ]);
    expect(problems[2]!.problem).toBe(
      "100 is not below ROTATE_BEFORE_DAYS (60): on-call would be paged before rotation had a chance.",
    );
  });

  it("does not call a set but malformed partner setting unset", () => {
    const webhook = problemsOf({
      ...base,
      ALERT_WEBHOOK_URL: "http://alerts.example.com/hook",
      ALERT_WEBHOOK_SECRET: "s3cret-value",
    });
    expect(webhook.map((p) => p.setting)).toEqual(["ALERT_WEBHOOK_URL"]);
    const storage = problemsOf({
      ...base,
      WEBSITE_INSTANCE_ID: "abc123",
      AzureWebJobsStorage__tableServiceUri: "http://st01.table.core.windows.net",
    });
    expect(storage.map((p) => p.setting)).toEqual(["AzureWebJobsStorage__tableServiceUri"]);
  });

  it("names a short webhook secret's length, and quotes no secret-bearing value anywhere", () => {
    const secrets = {
      NYLAS_WEBHOOK_SECRET: "tooShortXyz",
      PAGERDUTY_ROUTING_KEY: "pdKeyNotThirtyTwo",
      SLACK_WEBHOOK_URL: "hooks.slack.com/services/slackSecretPath",
      TEAMS_WEBHOOK_URL: "http://teams.example.com/teamsSecretPath",
      ALERT_WEBHOOK_URL: "ftp://alerts.example.com/alertSecretPath",
    };
    const problems = problemsOf({ ...base, ...secrets });
    expect(problems.map((p) => p.setting).sort()).toEqual(Object.keys(secrets).sort());
    expect(problems.find((p) => p.setting === "NYLAS_WEBHOOK_SECRET")!.problem).toBe(
      "is 11 characters long; a Nylas webhook secret is far longer.",
    );
    const text = JSON.stringify(problems);
    for (const fragment of [
      "tooShortXyz",
      "pdKeyNotThirtyTwo",
      "slackSecretPath",
      "teamsSecretPath",
      "alertSecretPath",
    ]) {
      expect(text).not.toContain(fragment);
    }
    for (const p of problems) expect(p.fix.length).toBeGreaterThan(10);
  });
});
