import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SECRET_SETTINGS } from "../helpers/secret-settings.js";
import { DEFAULTS, loadConfig, SETTING_NAMES } from "../../lib/config.js";
import {
  appSettingLines,
  bicepParams,
  type InfraSources,
  loadInfraSources,
  MAIN_BICEP,
  notSetEntries,
  type SettingsContract,
  settingsProblems,
  stripComments,
} from "./infra-sources.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, "utf8");

const contract: SettingsContract = { names: SETTING_NAMES, defaults: DEFAULTS, secrets: SECRET_SETTINGS };
const infra = loadInfraSources(ROOT);
const bicepText = (path: string): string => stripComments(infra.bicep[path] ?? "");

/** A copy of the sources with one file edited; fails if the edit changed nothing. */
function edited(path: string, edit: (text: string) => string): InfraSources {
  const before = infra.bicep[path];
  if (before === undefined) throw new Error(`no ${path}`);
  const after = edit(before);
  expect(after, `the edit of ${path} must change it`).not.toBe(before);
  return { ...infra, bicep: { ...infra.bicep, [path]: after } };
}

describe("infra/ and the settings contract (lib/config.ts)", () => {
  it("sets every contract setting or says why not; sets nothing unknown; secrets only via Key Vault; defaults equal DEFAULTS", () => {
    expect(settingsProblems(infra, contract)).toEqual([]);
  });

  it("lists exactly the settings deliberately left unset, each with a reason", () => {
    expect(notSetEntries(infra).map((e) => e.name)).toEqual([
      "AZURE_CLIENT_ID",
      "AZURE_CLIENT_SECRET",
      "WATCHDOG_STATE_DIR",
    ]);
    // AZURE_CLIENT_ID only with the user-assigned identity (user-assigned-identity.test.ts).
    expect(notSetEntries(infra).map((e) => e.setWhen)).toEqual([
      "useUserAssignedIdentity",
      undefined,
      undefined,
    ]);
  });

  it("treats as secret every setting loadConfig redacts from logs", () => {
    // Give every setting a distinct valid value; the ones loadConfig collects in secretValues
    // (the log redactor's list) are the credentials and must be in SECRET_SETTINGS.
    const env: Record<string, string> = {
      NYLAS_API_KEY: "value-NYLAS_API_KEY",
      NYLAS_WEBHOOK_SECRET: "value-NYLAS_WEBHOOK_SECRET",
      WEBHOOK_PUBLIC_URL: "https://watchdog.example.test/api/nylas/webhook",
      AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      AZURE_CLIENT_ID: "22222222-3333-4444-5555-666666666666",
      AZURE_CLIENT_SECRET: "value-AZURE_CLIENT_SECRET",
      WATCH_APP_IDS: "33333333-4444-5555-6666-777777777777",
      NYLAS_CLIENT_ID: "value-NYLAS_CLIENT_ID",
      REAUTH_REDIRECT_URI: "https://app.example.test/reauth",
      ALERT_WEBHOOK_URL: "https://alerts.example.test/hook",
      ALERT_WEBHOOK_SECRET: "value-ALERT_WEBHOOK_SECRET",
      SLACK_WEBHOOK_URL: "https://hooks.slack.example.test/services/T/B/x",
      TEAMS_WEBHOOK_URL: "https://teams.example.test/workflows/x",
      PAGERDUTY_ROUTING_KEY: "a".repeat(32),
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
    };
    const { secretValues } = loadConfig(env);
    const redacted = Object.keys(env).filter((name) => secretValues.includes(env[name]!));
    expect(redacted.length).toBeGreaterThan(0);
    for (const name of redacted) expect(SECRET_SETTINGS, name).toContain(name);
  });

  describe("the check fails when infra/ drifts", () => {
    const settingsFile = "infra/app/app-settings.bicep";

    it("a contract setting removed from the app settings", () => {
      const src = edited(settingsFile, (t) => t.replace(/^\s*ROTATION: rotation\n/m, ""));
      expect(settingsProblems(src, contract)).toContainEqual(
        expect.stringMatching(/^ROTATION is neither set/),
      );
    });

    it("an app setting the contract does not know", () => {
      const src = edited(settingsFile, (t) =>
        t.replace("  ROTATION: rotation\n", "  ROTATION: rotation\n  ROTATON_MODE: rotation\n"),
      );
      expect(settingsProblems(src, contract)).toContainEqual(
        expect.stringMatching(/^ROTATON_MODE .* is not a contract setting/),
      );
    });

    it("a setting both set and listed as not set", () => {
      const src = edited(settingsFile, (t) =>
        t.replace("  ROTATION: rotation\n", "  ROTATION: rotation\n  WATCHDOG_STATE_DIR: '/tmp'\n"),
      );
      expect(settingsProblems(src, contract)).toContain(
        "WATCHDOG_STATE_DIR is set as an app setting and also listed in settingsNotSet",
      );
    });

    it("a secret given as a value instead of a Key Vault reference", () => {
      const src = edited(settingsFile, (t) =>
        t.replace(
          "SLACK_WEBHOOK_URL: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/SLACK-WEBHOOK-URL/)'",
          "SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x'",
        ),
      );
      expect(settingsProblems(src, contract)).toContainEqual(
        expect.stringMatching(/^SLACK_WEBHOOK_URL .* is a secret but its value is/),
      );
    });

    it("a secret pointing at another setting's Key Vault secret", () => {
      const src = edited(settingsFile, (t) =>
        t.replace("secrets/TEAMS-WEBHOOK-URL/)", "secrets/SLACK-WEBHOOK-URL/)"),
      );
      expect(settingsProblems(src, contract)).toContainEqual(expect.stringMatching(/^TEAMS_WEBHOOK_URL /));
    });

    it("a secret parameter that is not @secure()", () => {
      const src = edited(MAIN_BICEP, (t) =>
        t.replace(/@secure\(\)\n(@description\('SLACK_WEBHOOK_URL)/, "$1"),
      );
      expect(settingsProblems(src, contract)).toContain(
        "param slackWebhookUrl carries a secret and must be @secure()",
      );
    });

    it("a default that differs from lib/config.ts", () => {
      const src = edited(MAIN_BICEP, (t) =>
        t.replace("param rotateBeforeDays string = '60'", "param rotateBeforeDays string = '30'"),
      );
      expect(settingsProblems(src, contract)).toContain(
        "param rotateBeforeDays defaults to 30, but lib/config.ts DEFAULTS.ROTATE_BEFORE_DAYS is 60",
      );
    });

    it("a setting on a Flex-incompatible platform key", () => {
      const src = edited(settingsFile, (t) =>
        t.replace(
          "  APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
          "  FUNCTIONS_EXTENSION_VERSION: '~4'\n  APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        ),
      );
      expect(settingsProblems(src, contract)).toContainEqual(
        expect.stringMatching(/^FUNCTIONS_EXTENSION_VERSION .* Flex Consumption rejects it/),
      );
    });

    it("a conditionally set setting that is also set unconditionally", () => {
      const src = edited(settingsFile, (t) =>
        t.replace(
          "  GRAPH_ENDPOINT: graphEndpoint\n",
          "  GRAPH_ENDPOINT: graphEndpoint\n  AZURE_CLIENT_ID: userAssignedIdentityClientId\n",
        ),
      );
      expect(settingsProblems(src, contract)).toContainEqual(
        "AZURE_CLIENT_ID (infra/app/app-settings.bicep) is set unconditionally, but settingsNotSet says only when useUserAssignedIdentity",
      );
    });

    it("a conditionally set setting under another condition", () => {
      const src = edited(settingsFile, (t) =>
        t.replace(
          "  useUserAssignedIdentity ? {\n    AZURE_CLIENT_ID:",
          "  empty(userAssignedIdentityClientId) ? {\n    AZURE_CLIENT_ID:",
        ),
      );
      expect(settingsProblems(src, contract)).toContainEqual(
        expect.stringMatching(
          /^AZURE_CLIENT_ID .* is set when empty\(userAssignedIdentityClientId\), but settingsNotSet says/,
        ),
      );
    });

    it("a setting listed as set under a condition that nothing sets", () => {
      const src = edited(settingsFile, (t) =>
        t.replace(/^ {2}useUserAssignedIdentity \? \{\n {4}AZURE_CLIENT_ID: .*\n {2}\} : \{\},\n/m, ""),
      );
      expect(settingsProblems(src, contract)).toContain(
        "settingsNotSet says AZURE_CLIENT_ID is set when useUserAssignedIdentity, but no app setting sets it",
      );
    });

    it("a conditionally set setting whose settingsNotSet entry lost its condition", () => {
      const src = edited(settingsFile, (t) => t.replace(/^ {4}setWhen: 'useUserAssignedIdentity'\n/m, ""));
      expect(settingsProblems(src, contract)).toContain(
        "AZURE_CLIENT_ID is set as an app setting and also listed in settingsNotSet",
      );
    });

    it("a parameter azd cannot set from its environment", () => {
      const parameters = structuredClone(infra.parameters);
      delete parameters.parameters["alertRepeatHours"];
      expect(settingsProblems({ ...infra, parameters }, contract)).toContainEqual(
        expect.stringMatching(/should map alertRepeatHours to "\$\{ALERT_REPEAT_HOURS\}"/),
      );
    });
  });
});

describe("infra/ hosting", () => {
  const app = bicepText("infra/app/function-app.bicep");

  it("runs Node 22 on a Linux Flex Consumption plan", () => {
    expect(app).toMatch(/runtime:\s*\{\s*name:\s*'node'\s*version:\s*'22'\s*\}/);
    expect(app).toMatch(/sku:\s*\{\s*name:\s*'FC1'\s*tier:\s*'FlexConsumption'\s*\}/);
    expect(app).toContain("kind: 'functionapp,linux'");
    expect(app).toMatch(/reserved:\s*true/);
    // package.json engines agree on the major version.
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=22\b/);
  });

  it("is HTTPS-only, TLS 1.2+, without FTP or publishing passwords, with a managed identity", () => {
    // System-assigned unless USE_USER_ASSIGNED_IDENTITY (user-assigned-identity.test.ts).
    expect(app).toMatch(/\} : \{\s*type:\s*'SystemAssigned'\s*\}/);
    expect(app).toMatch(/^ {2}identity: siteIdentity$/m);
    expect(app).toContain("httpsOnly: true");
    expect(app).toContain("minTlsVersion: '1.2'");
    expect(app).toContain("ftpsState: 'Disabled'");
    expect(app.match(/allow:\s*false/g)).toHaveLength(2);
    expect(app).toContain("'azd-service-name': 'api'");
  });

  it("keeps storage private and reaches it, Key Vault and telemetry with the identity", () => {
    const storage = bicepText("infra/app/storage.bicep");
    expect(storage).toContain("allowBlobPublicAccess: false");
    expect(storage).toContain("minimumTlsVersion: 'TLS1_2'");
    expect(bicepText("infra/app/key-vault.bicep")).toContain("enableRbacAuthorization: true");
    expect(bicepText("infra/app/monitoring.bicep")).toContain("DisableLocalAuth: true");
    const rbac = bicepText("infra/app/rbac.bicep");
    for (const roleId of [
      "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", // Storage Blob Data Owner
      "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", // Storage Table Data Contributor
      "974c5e8b-45b9-4653-ba55-5f855dd0fb88", // Storage Queue Data Contributor
      "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
      "3913510d-42f4-4e42-8a64-420c390055eb", // Monitoring Metrics Publisher
    ]) {
      expect(rbac).toContain(roleId);
    }
    // The identity-based storage mode disables shared keys.
    expect(bicepText(MAIN_BICEP)).toContain("allowSharedKeyAccess: stateStorageAuth == 'connectionString'");
  });

  it("writes the webhook URL the contract's route answers on", () => {
    expect(bicepText("infra/app/app-settings.bicep")).toContain(
      "'https://${functionApp.properties.defaultHostName}/api/nylas/webhook'",
    );
  });

  it("exposes the outputs azd and the postprovision hook read", () => {
    const outputs = [...bicepText(MAIN_BICEP).matchAll(/^output (\w+) /gm)].map((m) => m[1]);
    for (const name of [
      "AZURE_FUNCTION_APP_NAME",
      "SERVICE_API_NAME",
      "AZURE_FUNCTION_APP_PRINCIPAL_ID",
      "AZURE_FUNCTION_APP_ID",
      "AZURE_TENANT_ID",
      "WEBHOOK_PUBLIC_URL",
      "AZURE_KEY_VAULT_NAME",
    ]) {
      expect(outputs).toContain(name);
    }
  });

  it("asks azd only for what it cannot default: the environment, the location, the Nylas API key", () => {
    const required = [...bicepParams(infra.bicep[MAIN_BICEP]!).values()]
      .filter((p) => p.defaultValue === undefined)
      .map((p) => p.name);
    expect(required.sort()).toEqual(["environmentName", "location", "nylasApiKey"]);
  });

  it("never writes a secret-looking literal into an app setting", () => {
    for (const line of appSettingLines(infra)) {
      expect(line.value, line.name).not.toMatch(/AccountKey=|nyk_|https:\/\/hooks\.slack\.com/);
    }
  });
});

describe("azure.yaml and the postprovision hook", () => {
  const yaml = read("azure.yaml");

  it("deploys one Node function service, api, from the repository root", () => {
    expect(yaml).toMatch(/^services:\n {2}api:\n(?: {4}.*\n|\s*#.*\n)*/m);
    const api = /^ {2}api:\n((?: {4}.*\n| *#.*\n)*)/m.exec(yaml)?.[1] ?? "";
    expect(api).toMatch(/^ {4}project: \.$/m);
    expect(api).toMatch(/^ {4}language: ts$/m);
    expect(api).toMatch(/^ {4}host: function$/m);
  });

  it.each(["preprovision", "postprovision"])("names the %s hooks, and the scripts exist", (hook) => {
    const hooks = /^hooks:\n((?: {2}.*\n| *#.*\n|\n)*)/m.exec(yaml)?.[1] ?? "";
    const block = new RegExp(`^ {2}${hook}:\\n((?: {4}.*\\n)*)`, "m").exec(hooks)?.[1] ?? "";
    const posix = /^ {4}posix:\n(?: {6}.*\n)*? {6}run: (\S+)$/m.exec(block)?.[1];
    const windows = /^ {4}windows:\n(?: {6}.*\n)*? {6}run: (\S+)$/m.exec(block)?.[1];
    expect(posix).toBe(`infra/scripts/${hook}.sh`);
    expect(windows).toBe(`infra/scripts/${hook}.ps1`);
    expect(existsSync(`${ROOT}${posix}`)).toBe(true);
    expect(existsSync(`${ROOT}${windows}`)).toBe(true);
    expect(block.match(/continueOnError: (\w+)/g)).toEqual([
      "continueOnError: false",
      "continueOnError: false",
    ]);
  });

  it("has a preprovision.sh that bash accepts and that fails fast", () => {
    const script = `${ROOT}infra/scripts/preprovision.sh`;
    const check = spawnSync("bash", ["-n", script], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    const text = read("infra/scripts/preprovision.sh");
    expect(text.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
  });

  it("has a postprovision.sh that bash accepts and that fails fast", () => {
    const script = `${ROOT}infra/scripts/postprovision.sh`;
    const check = spawnSync("bash", ["-n", script], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    const text = read("infra/scripts/postprovision.sh");
    expect(text.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(text).toContain("18a4783c-866b-4cc7-a460-3d5e5662c884");
    expect(text).toContain("/owners/\\$ref");
  });

  it("bash -n catches a broken script (the check above can fail)", () => {
    const check = spawnSync("bash", ["-n"], {
      input: "if true; then\n  echo unterminated\n",
      encoding: "utf8",
    });
    expect(check.status).not.toBe(0);
  });
});
