import { describe, expect, it } from "vitest";
import { TENANT, base, problemsOf } from "../helpers/config-problems.js";
import { loadConfig, DEFAULTS } from "../../lib/config.js";

describe("loadConfig", () => {
  it("refuses a schedule that never fires", () => {
    const problems = problemsOf({ ...base, WATCHDOG_SCHEDULE: "0 0 0 31 2 *" });
    expect(problems.map((p) => p.setting)).toEqual(["WATCHDOG_SCHEDULE"]);
    expect(problems[0]!.problem).toMatch(/never fires/);
  });

  it("refuses a webhook secret too short to be Nylas's, naming the setting but not the value", () => {
    const problems = problemsOf({ ...base, NYLAS_WEBHOOK_SECRET: "hunter2pass" });
    expect(problems.map((p) => p.setting)).toEqual(["NYLAS_WEBHOOK_SECRET"]);
    expect(JSON.stringify(problems)).not.toContain("hunter2pass");
    expect(() => loadConfig({ ...base, NYLAS_WEBHOOK_SECRET: "x".repeat(40) })).not.toThrow();
  });

  it("refuses PAGERDUTY_MIN_SEVERITY that is not a severity, and defaults it to critical", () => {
    expect(problemsOf({ ...base, PAGERDUTY_MIN_SEVERITY: "loud" }).map((p) => p.setting)).toEqual([
      "PAGERDUTY_MIN_SEVERITY",
    ]);
    expect(loadConfig(base).alerts.pagerDutyMinSeverity).toBe("critical");
  });

  it("applies the contract's defaults", () => {
    const config = loadConfig(base);
    expect(config.nylas.apiUri).toBe("https://api.us.nylas.com");
    expect(config.azure.authorityHost).toBe(DEFAULTS.AZURE_AUTHORITY_HOST);
    expect(config.azure.graphEndpoint).toBe("https://graph.microsoft.com");
    expect(config.rotation).toEqual({
      mode: "auto",
      rotateBeforeDays: 60,
      secretLifetimeDays: 180,
      retireGraceHours: 24,
      retireQuietHours: 72,
      reauthDeferHours: 72,
      switchMarginMinutes: 60,
      propagationTimeoutSeconds: 240,
    });
    expect(config.alerts.alertBeforeDays).toBe(14);
    expect(config.alerts.repeatHours).toBe(24);
    expect(config.state).toEqual({ kind: "file", dir: ".watchdog" });
    expect(config.schedules).toEqual({ watchdog: "0 0 */6 * * *", grantSweep: "0 */30 * * * *" });
    expect(config.watchAppIds).toEqual([]);
  });

  it("names every problem at once, each with a fix", () => {
    const problems = problemsOf({
      AZURE_TENANT_ID: TENANT,
      GRAPH_ENDPOINT: "http://graph.example.com",
      ROTATE_BEFORE_DAYS: "abc",
      WATCHDOG_SCHEDULE: "*/5 * * * *",
    });
    const settings = problems.map((p) => p.setting);
    expect(settings).toEqual(
      expect.arrayContaining(["NYLAS_API_KEY", "GRAPH_ENDPOINT", "ROTATE_BEFORE_DAYS", "WATCHDOG_SCHEDULE"]),
    );
    for (const p of problems) expect(p.fix.length).toBeGreaterThan(10);
    expect(problems.find((p) => p.setting === "GRAPH_ENDPOINT")!.problem).toMatch(/only https/);
    expect(problems.find((p) => p.setting === "WATCHDOG_SCHEDULE")!.problem).toMatch(/5-field Unix cron/);
    expect(problems.find((p) => p.setting === "ROTATE_BEFORE_DAYS")!.problem).toMatch(/not a whole number/);
  });

  it("rejects thresholds in the wrong order", () => {
    const problems = problemsOf({ ...base, ALERT_BEFORE_DAYS: "30", ROTATE_BEFORE_DAYS: "20" });
    expect(problems.map((p) => p.setting)).toContain("ALERT_BEFORE_DAYS");
    const problems2 = problemsOf({ ...base, ROTATE_BEFORE_DAYS: "200", SECRET_LIFETIME_DAYS: "180" });
    expect(problems2.map((p) => p.setting)).toContain("ROTATE_BEFORE_DAYS");
  });

  it("rejects out-of-range numbers and bad schedules", () => {
    const problems = problemsOf({
      ...base,
      SECRET_LIFETIME_DAYS: "900",
      GRANT_SWEEP_SCHEDULE: "0 0 25 * * *",
      WATCHDOG_SCHEDULE: "00:05:00",
    });
    expect(problems.map((p) => p.setting).sort()).toEqual(
      ["GRANT_SWEEP_SCHEDULE", "SECRET_LIFETIME_DAYS", "WATCHDOG_SCHEDULE"].sort(),
    );
  });

  it("never echoes a secret-bearing URL in a problem", () => {
    const slack = "http://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX";
    const problems = problemsOf({ ...base, SLACK_WEBHOOK_URL: slack });
    expect(JSON.stringify(problems)).not.toContain("XXXXSECRETXXXX");
  });

  it("parses WATCH_APP_IDS lists and *", () => {
    const a = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";
    const b = "BBBBBBBB-BBBB-BBBB-BBBB-BBBBBBBBBBBB";
    expect(loadConfig({ ...base, WATCH_APP_IDS: ` ${a}, ${b},${a}` }).watchAppIds).toEqual([
      a,
      b.toLowerCase(),
    ]);
    expect(loadConfig({ ...base, WATCH_APP_IDS: "*" }).watchAppIds).toBe("*");
    expect(problemsOf({ ...base, WATCH_APP_IDS: "not-a-guid" })[0]!.setting).toBe("WATCH_APP_IDS");
  });

  it("uses Table storage when AzureWebJobsStorage is set, and collects secret values", () => {
    const config = loadConfig({
      ...base,
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
      NYLAS_WEBHOOK_SECRET: "whsec_abcdef0123456789",
      PAGERDUTY_ROUTING_KEY: "0123456789abcdef0123456789abcdef",
    });
    expect(config.state).toEqual({ kind: "table", connectionString: "UseDevelopmentStorage=true" });
    expect(config.alerts.sinks.pagerDuty).toEqual({
      routingKey: "0123456789abcdef0123456789abcdef",
      eventsUrl: "https://events.pagerduty.com/v2/enqueue",
    });
    expect(config.secretValues).toEqual(
      expect.arrayContaining([
        "nyk_test_key_123",
        "whsec_abcdef0123456789",
        "0123456789abcdef0123456789abcdef",
      ]),
    );
  });

  it("requires NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI together", () => {
    expect(problemsOf({ ...base, NYLAS_CLIENT_ID: "abc" })[0]!.setting).toBe("REAUTH_REDIRECT_URI");
    const ok = loadConfig({
      ...base,
      NYLAS_CLIENT_ID: "abc",
      REAUTH_REDIRECT_URI: "http://localhost:3000/cb",
    });
    expect(ok.nylas.reauthRedirectUri).toBe("http://localhost:3000/cb");
  });
});

describe("loadConfig: identity-based storage", () => {
  it("builds the Table service URI from AzureWebJobsStorage__accountName", () => {
    const config = loadConfig({
      ...base,
      AzureWebJobsStorage__accountName: "stwatchdog01",
      AzureWebJobsStorage__clientId: "x",
    });
    expect(config.state).toEqual({
      kind: "table-identity",
      tableServiceUri: "https://stwatchdog01.table.core.windows.net",
      clientId: "x",
    });
  });

  it("refuses a local directory for state when running in Azure", () => {
    const problems = problemsOf({ ...base, WEBSITE_INSTANCE_ID: "abc123" });
    expect(problems.map((p) => p.setting)).toEqual(["AzureWebJobsStorage"]);
    expect(problems[0]!.fix).toMatch(/AzureWebJobsStorage__accountName/);
  });
});

describe("local.settings.json.example", () => {
  it("names only settings the contract defines, and all but those that keep their defaults", async () => {
    const { readFileSync } = await import("node:fs");
    const { SETTING_NAMES } = await import("../../lib/config.js");
    const example = JSON.parse(
      readFileSync(new URL("../../local.settings.json.example", import.meta.url), "utf8"),
    ) as {
      Values: Record<string, string>;
    };
    const keys = Object.keys(example.Values).filter((k) => k !== "FUNCTIONS_WORKER_RUNTIME");
    expect(keys.filter((k) => !(SETTING_NAMES as readonly string[]).includes(k))).toEqual([]);
    // The state directory is for CLI runs without storage; the endpoints change only for sovereign clouds.
    const missing = SETTING_NAMES.filter((k) => !keys.includes(k));
    expect(missing.sort()).toEqual([
      "AZURE_AUTHORITY_HOST",
      "GRAPH_ENDPOINT",
      "PAGERDUTY_EVENTS_URL",
      "WATCHDOG_STATE_DIR",
    ]);
  });
});
