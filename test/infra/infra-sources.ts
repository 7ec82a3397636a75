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
  AZURE_CLIENT_ID: "userAssignedIdentityClientId",
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
  /**
   * The condition of the ternary whose object holds the line (`cond ? {` → `cond`,
   * `cond ? {} : {` → `!(cond)`); undefined when the enclosing object is unconditional.
   */
  guard: string | undefined;
}

/** The condition under which an object opened on `line` applies, if it is a ternary branch. */
function ternaryGuard(line: string): string | undefined {
  const whenTrue = /^\s*(.+?)\s*\?\s*\{$/.exec(line);
  if (whenTrue) return whenTrue[1];
  const whenFalse = /^\s*(.+?)\s*\?\s*\{\}\s*:\s*\{$/.exec(line);
  return whenFalse ? `!(${whenFalse[1]!})` : undefined;
}

/** Every `NAME: value` line whose key looks like an app setting, in every .bicep file. */
export function appSettingLines(src: InfraSources): SettingLine[] {
  const found: SettingLine[] = [];
  for (const [file, text] of Object.entries(src.bicep)) {
    // Settings objects are flat, so the last line that opened an object is the one holding a setting.
    let opener = "";
    for (const line of stripComments(text).split("\n")) {
      const match = /^\s*([A-Z][A-Z0-9_]*|AzureWebJobsStorage(?:__\w+)?)\s*:\s*(.*?)\s*$/.exec(line);
      if (match) found.push({ file, name: match[1]!, value: match[2]!, guard: ternaryGuard(opener) });
      else if (/\{\s*$/.test(line)) opener = line;
    }
  }
  return found;
}

export interface NotSetEntry {
  name: string;
  reason: string;
  /** A Bicep condition: the setting is set, in a `setWhen ? {` block, exactly when it holds. */
  setWhen?: string;
}

/** The `var settingsNotSet = [ { name: '…' reason: '…' [setWhen: '…'] } … ]` list. */
export function notSetEntries(src: InfraSources): NotSetEntry[] {
  const entries: NotSetEntry[] = [];
  for (const text of Object.values(src.bicep)) {
    const block = /^var settingsNotSet = \[\n([\s\S]*?)^\]/m.exec(stripComments(text));
    if (!block) continue;
    const entry = /name:\s*'([^']*)'\s*\n\s*reason:\s*'((?:\\'|[^'])*)'(?:\s*\n\s*setWhen:\s*'([^']*)')?/g;
    for (const match of block[1]!.matchAll(entry)) {
      const setWhen = match[3];
      entries.push({
        name: match[1]!,
        reason: match[2]!.replaceAll("\\'", "'"),
        ...(setWhen !== undefined ? { setWhen } : {}),
      });
    }
  }
  return entries;
}

/** A setting both set and listed as not set must be set only under the entry's `setWhen`. */
function conditionalSettingProblems(entry: NotSetEntry, lines: readonly SettingLine[]): string[] {
  const setting = lines.filter((l) => l.name === entry.name);
  if (entry.setWhen === undefined) {
    return setting.length > 0
      ? [`${entry.name} is set as an app setting and also listed in settingsNotSet`]
      : [];
  }
  if (setting.length === 0) {
    return [`settingsNotSet says ${entry.name} is set when ${entry.setWhen}, but no app setting sets it`];
  }
  return setting
    .filter((l) => l.guard !== entry.setWhen)
    .map(
      (l) =>
        `${entry.name} (${l.file}) is set ${l.guard === undefined ? "unconditionally" : `when ${l.guard}`}, but settingsNotSet says only when ${entry.setWhen}`,
    );
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

/** Contract settings neither set nor explained, and settingsNotSet entries that are wrong. */
function coverageProblems(
  contract: SettingsContract,
  lines: readonly SettingLine[],
  notSet: readonly NotSetEntry[],
): string[] {
  const problems: string[] = [];
  const setNames = new Set(lines.map((l) => l.name));
  const notSetNames = new Set(notSet.map((e) => e.name));
  if (notSet.length === 0) problems.push("no `var settingsNotSet = [...]` list found in infra/**/*.bicep");
  for (const name of contract.names) {
    if (!setNames.has(name) && !notSetNames.has(name)) {
      problems.push(`${name} is neither set as an app setting nor listed in settingsNotSet (with a reason)`);
    }
  }
  for (const entry of notSet) {
    problems.push(...conditionalSettingProblems(entry, lines));
    if (!contract.names.includes(entry.name)) {
      problems.push(`settingsNotSet lists ${entry.name}, which is not a contract setting`);
    }
    if (entry.reason.trim().length < 20) problems.push(`settingsNotSet entry ${entry.name} needs a reason`);
  }
  return problems;
}

/** What is wrong with one app setting line's key or value; undefined when nothing. */
function settingLineProblem(line: SettingLine, contract: SettingsContract): string | undefined {
  const where = `${line.name} (${line.file})`;
  if (FLEX_FORBIDDEN_SETTINGS.includes(line.name))
    return `${where} must not be set: Flex Consumption rejects it`;
  if (!contract.names.includes(line.name)) {
    return isPlatformSetting(line.name) ? undefined : `${where} is not a contract setting`;
  }
  if (contract.secrets.has(line.name)) {
    const reference = keyVaultReference(line.name);
    return line.value === reference
      ? undefined
      : `${where} is a secret but its value is ${line.value}, not the Key Vault reference ${reference}`;
  }
  const derived = DERIVED[line.name];
  if (derived !== undefined) {
    return line.value === derived ? undefined : `${where} should be ${derived}, found ${line.value}`;
  }
  const param = camelCase(line.name);
  return line.value === param ? undefined : `${where} should take parameter ${param}, found ${line.value}`;
}

/** The main.bicep parameter feeding one contract setting: default, @secure(), azd mapping. */
function parameterProblems(
  src: InfraSources,
  contract: SettingsContract,
  name: string,
  param: BicepParam,
  /** False for a setting left unset: its (unused) parameter may default to anything. */
  checkDefault: boolean,
): string[] {
  const problems: string[] = [];
  if (checkDefault && Object.hasOwn(contract.defaults, name)) {
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
    if (!new RegExp(`^\\s*'${kv}': ${param.name}$`, "m").test(src.bicep[MAIN_BICEP] ?? "")) {
      problems.push(`${MAIN_BICEP} does not store ${param.name} in Key Vault as secret '${kv}'`);
    }
  }
  const mapped = src.parameters.parameters[param.name]?.value;
  if (mapped !== `\${${name}}`) {
    problems.push(
      `infra/main.parameters.json should map ${param.name} to "\${${name}}" (azd env), found ${JSON.stringify(mapped)}`,
    );
  }
  return problems;
}

/** Every way infra/ disagrees with the settings contract; empty when in sync. */
export function settingsProblems(src: InfraSources, contract: SettingsContract): string[] {
  const main = src.bicep[MAIN_BICEP];
  if (main === undefined) return [`${MAIN_BICEP} is missing`];
  const mainParams = bicepParams(main);
  const lines = appSettingLines(src);
  const setNames = new Set(lines.map((l) => l.name));
  const notSet = notSetEntries(src);
  const notSetNames = new Set(notSet.map((e) => e.name));
  const problems = coverageProblems(contract, lines, notSet);

  const seen = new Set<string>();
  for (const line of lines) {
    if (seen.has(line.name)) problems.push(`${line.name} (${line.file}) is set more than once`);
    seen.add(line.name);
    const problem = settingLineProblem(line, contract);
    if (problem !== undefined) problems.push(problem);
  }

  for (const name of contract.names) {
    const param = mainParams.get(camelCase(name));
    if (param === undefined) {
      if (setNames.has(name) && DERIVED[name] === undefined && name !== "AzureWebJobsStorage") {
        problems.push(`${MAIN_BICEP} has no parameter ${camelCase(name)} for ${name}`);
      }
    } else {
      problems.push(...parameterProblems(src, contract, name, param, !notSetNames.has(name)));
    }
  }
  return problems;
}
