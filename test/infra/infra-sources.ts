/**
 * Reads infra/ as text and checks it against the settings contract (lib/config.ts). No Bicep
 * compiler is needed: the Bicep is written so that every app setting is one `NAME: value` line
 * (infra/app/app-settings.bicep), and every contract setting's parameter in infra/main.bicep
 * is the setting's name in camelCase.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export interface InfraSources {
  /** Repository-relative path (infra/…) → text, for every .bicep file. */
  bicep: Record<string, string>;
  /** infra/main.parameters.json, parsed. */
  parameters: { parameters: Record<string, { value: unknown }> };
}

export interface SettingsContract {
  names: readonly string[];
  defaults: Readonly<Record<string, string | number>>;
  /** Settings whose value is a credential: Key Vault references only. */
  secrets: ReadonlySet<string>;
}

export const MAIN_BICEP = "infra/main.bicep";

/** App settings that are the platform's, not the contract's. */
export function isPlatformSetting(name: string): boolean {
  return (
    name === "APPLICATIONINSIGHTS_CONNECTION_STRING" ||
    name === "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" ||
    name.startsWith("AzureWebJobsStorage__")
  );
}

/** Flex Consumption rejects these (the runtime and version live in functionAppConfig). */
export const FLEX_FORBIDDEN_SETTINGS = [
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTSHARE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
];

/** Contract settings whose value Bicep computes instead of taking a parameter. */
const DERIVED: Readonly<Record<string, string>> = {
  AZURE_TENANT_ID: "tenant().tenantId",
  WEBHOOK_PUBLIC_URL: "webhookUrl",
};

export function loadInfraSources(repoRoot: string): InfraSources {
  const bicep: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".bicep")) bicep[relative(repoRoot, path)] = readFileSync(path, "utf8");
    }
  };
  walk(join(repoRoot, "infra"));
  const parameters = JSON.parse(
    readFileSync(join(repoRoot, "infra", "main.parameters.json"), "utf8"),
  ) as InfraSources["parameters"];
  return { bicep, parameters };
}

/** `ROTATE_BEFORE_DAYS` → `rotateBeforeDays`. */
export function camelCase(setting: string): string {
  const [first = "", ...rest] = setting.toLowerCase().split("_");
  return first + rest.map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join("");
}

/** Key Vault secret names allow only letters, digits and dashes. */
export function keyVaultSecretName(setting: string): string {
  return setting.replaceAll("_", "-");
}

export function keyVaultReference(setting: string): string {
  return `'@Microsoft.KeyVault(SecretUri=\${keyVaultUri}secrets/${keyVaultSecretName(setting)}/)'`;
}

/** Drops // and /* *\/ comments (a `//` inside 'https://…' is preceded by ':' and survives). */
export function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .map((line) => (/^\s*\/\//.test(line) ? "" : line.replace(/\s+\/\/.*$/, "")))
    .join("\n");
}

export interface SettingLine {
  file: string;
  name: string;
  /** The Bicep expression after the colon. */
  value: string;
}

/** Every `NAME: value` line whose key looks like an app setting, in every .bicep file. */
export function appSettingLines(src: InfraSources): SettingLine[] {
  const found: SettingLine[] = [];
  for (const [file, text] of Object.entries(src.bicep)) {
    for (const line of stripComments(text).split("\n")) {
      const match = /^\s*([A-Z][A-Z0-9_]*|AzureWebJobsStorage(?:__\w+)?)\s*:\s*(.*?)\s*$/.exec(line);
      if (match) found.push({ file, name: match[1]!, value: match[2]! });
    }
  }
  return found;
}

export interface NotSetEntry {
  name: string;
  reason: string;
}

/** The `var settingsNotSet = [ { name: '…' reason: '…' } … ]` list. */
export function notSetEntries(src: InfraSources): NotSetEntry[] {
  const entries: NotSetEntry[] = [];
  for (const text of Object.values(src.bicep)) {
    const block = /^var settingsNotSet = \[\n([\s\S]*?)^\]/m.exec(stripComments(text));
    if (!block) continue;
    const pair = /name:\s*'([^']*)'\s*\n\s*reason:\s*'((?:\\'|[^'])*)'/g;
    for (const match of block[1]!.matchAll(pair)) {
      entries.push({ name: match[1]!, reason: match[2]!.replaceAll("\\'", "'") });
    }
  }
  return entries;
}

export interface BicepParam {
  name: string;
  type: string;
  /** The default's expression as written, string literals unquoted; undefined: required. */
  defaultValue: string | undefined;
  secure: boolean;
}

/** `param` declarations of one file, with whether `@secure()` decorates them. */
export function bicepParams(text: string): Map<string, BicepParam> {
  const lines = stripComments(text).split("\n");
  const params = new Map<string, BicepParam>();
  lines.forEach((line, index) => {
    const match = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+?))?\s*$/.exec(line);
    if (!match) return;
    const decorators: string[] = [];
    for (let i = index - 1; i >= 0; i--) {
      const above = lines[i]!;
      if (above.trim() === "" || /^param\s/.test(above)) break;
      decorators.push(above);
    }
    const raw = match[3];
    const literal = raw === undefined ? undefined : /^'((?:\\'|[^'])*)'$/.exec(raw);
    params.set(match[1]!, {
      name: match[1]!,
      type: match[2]!,
      defaultValue: literal ? literal[1]!.replaceAll("\\'", "'") : raw,
      secure: decorators.some((d) => /^\s*@secure\(\)/.test(d)),
    });
  });
  return params;
}

/** Every way infra/ disagrees with the settings contract; empty when in sync. */
export function settingsProblems(src: InfraSources, contract: SettingsContract): string[] {
  const problems: string[] = [];
  const main = src.bicep[MAIN_BICEP];
  if (main === undefined) return [`${MAIN_BICEP} is missing`];
  const mainParams = bicepParams(main);
  const contractNames = new Set(contract.names);
  const lines = appSettingLines(src);
  const setNames = new Set(lines.map((l) => l.name));
  const notSet = notSetEntries(src);
  const notSetNames = new Set(notSet.map((e) => e.name));

  if (notSet.length === 0) problems.push("no `var settingsNotSet = [...]` list found in infra/**/*.bicep");

  for (const name of contract.names) {
    if (setNames.has(name) && notSetNames.has(name)) {
      problems.push(`${name} is set as an app setting and also listed in settingsNotSet`);
    } else if (!setNames.has(name) && !notSetNames.has(name)) {
      problems.push(`${name} is neither set as an app setting nor listed in settingsNotSet (with a reason)`);
    }
  }

  for (const entry of notSet) {
    if (!contractNames.has(entry.name)) {
      problems.push(`settingsNotSet lists ${entry.name}, which is not a contract setting`);
    }
    if (entry.reason.trim().length < 20) {
      problems.push(`settingsNotSet entry ${entry.name} needs a reason`);
    }
  }

  const seen = new Set<string>();
  for (const line of lines) {
    const where = `${line.name} (${line.file})`;
    if (seen.has(line.name)) problems.push(`${where} is set more than once`);
    seen.add(line.name);

    if (FLEX_FORBIDDEN_SETTINGS.includes(line.name)) {
      problems.push(`${where} must not be set: Flex Consumption rejects it`);
      continue;
    }
    if (!contractNames.has(line.name)) {
      if (!isPlatformSetting(line.name)) problems.push(`${where} is not a contract setting`);
      continue;
    }

    if (contract.secrets.has(line.name)) {
      if (line.value !== keyVaultReference(line.name)) {
        problems.push(
          `${where} is a secret but its value is ${line.value}, not the Key Vault reference ${keyVaultReference(line.name)}`,
        );
      }
      continue;
    }

    const derived = DERIVED[line.name];
    const param = camelCase(line.name);
    if (derived !== undefined) {
      if (line.value !== derived) problems.push(`${where} should be ${derived}, found ${line.value}`);
    } else if (line.value !== param) {
      problems.push(`${where} should take parameter ${param}, found ${line.value}`);
    }
  }

  // Parameters of main.bicep that feed contract settings: defaults, @secure(), azd mapping.
  for (const name of contract.names) {
    const param = mainParams.get(camelCase(name));
    const isDefaulted = Object.hasOwn(contract.defaults, name);
    if (param === undefined) {
      if (setNames.has(name) && DERIVED[name] === undefined && name !== "AzureWebJobsStorage") {
        problems.push(`${MAIN_BICEP} has no parameter ${camelCase(name)} for ${name}`);
      }
      continue;
    }
    if (isDefaulted && !notSetNames.has(name)) {
      const expected = String(contract.defaults[name]);
      if (param.defaultValue !== expected) {
        problems.push(
          `param ${param.name} defaults to ${param.defaultValue ?? "(nothing)"}, but lib/config.ts DEFAULTS.${name} is ${expected}`,
        );
      }
    }
    if (contract.secrets.has(name)) {
      if (!param.secure) problems.push(`param ${param.name} carries a secret and must be @secure()`);
      if (param.defaultValue !== undefined && param.defaultValue !== "") {
        problems.push(`param ${param.name} carries a secret and must not have a default value`);
      }
      const kv = keyVaultSecretName(name);
      if (!new RegExp(`^\\s*'${kv}': ${param.name}$`, "m").test(main)) {
        problems.push(`${MAIN_BICEP} does not store ${param.name} in Key Vault as secret '${kv}'`);
      }
    }
    const mapped = src.parameters.parameters[param.name]?.value;
    if (mapped !== `\${${name}}`) {
      problems.push(
        `infra/main.parameters.json should map ${param.name} to "\${${name}}" (azd env), found ${JSON.stringify(mapped)}`,
      );
    }
  }
  return problems;
}
