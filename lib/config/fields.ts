/**
 * Zod building blocks for one setting each. Every issue is a problem a person reads in the
 * ConfigError: its message is the problem ("… is not a whole number."), and its fix rides along as
 * `params.fix`. A message never quotes a secret: secret-bearing settings name a length or nothing.
 */
import { Cron } from "croner";
import * as z from "zod/mini";
import { IN_UTC } from "../utc-schedule.js";

/** The fix zod issues carry: custom issues set it in `params`; `setting` fills it in for the rest. */
function fixOf(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== "custom") return undefined;
  const fix: unknown = issue.params?.["fix"];
  return typeof fix === "string" ? fix : undefined;
}

/** A problem with its own fix, for a check whose fix differs from the setting's usual one. */
export function says(problem: (value: string) => string, fix: string) {
  return { error: (issue: { input?: unknown }) => problem(String(issue.input)), params: { fix } };
}

/**
 * What App Service leaves in a setting whose Key Vault reference it could not resolve: the
 * reference itself, which would otherwise reach Nylas or Entra as a key and come back as a 401
 * blamed on the region or the network. Likeliest right after a first deployment (`azd up`).
 */
const KEY_VAULT_PREFIX = "@microsoft.keyvault(";

function isKeyVaultReference(value: string): boolean {
  return value.toLowerCase().startsWith(KEY_VAULT_PREFIX);
}

/** Quotes nothing past the prefix: the reference names the vault and the secret. */
const KEY_VAULT_PROBLEM: SettingProblem = {
  problem:
    "Key Vault reference not resolved (the value is still @Microsoft.KeyVault(…)): the Function App's identity needs the Key Vault Secrets User role on the vault, or the secret is missing.",
  fix:
    "Grant the Function App's managed identity the Key Vault Secrets User role on the vault (Get on secrets, where the vault uses access policies), " +
    "check that the secret the reference names exists and is enabled, then restart the app. See Microsoft's \"Use Key Vault references as app settings " +
    'in Azure App Service and Azure Functions": https://learn.microsoft.com/azure/app-service/app-service-key-vault-references.',
};

/** One problem with one setting, as a person reads it: never its value when the value is a secret. */
export interface SettingProblem {
  problem: string;
  fix: string;
}

/** One setting: reads its raw value and always answers one, filing what is wrong with it. */
export interface Setting<T> {
  read(value: string | undefined, problems: SettingProblem[]): T;
}

/** What a setting reads as. */
export type SettingValue<S> = S extends Setting<infer T> ? T : never;

/**
 * One setting. `schema` sees the trimmed value, undefined when unset or blank. When it fails, its
 * problems are filed, each with `fix` unless its check named its own, and the setting reads as
 * `fallback(raw)`: the default where there is one, else the raw text, since the cross-checks only ask
 * whether such a setting is set, and they run whatever else failed, so every problem shows at once.
 *
 * `schema` is built on first use and sees only a value given: unset, a setting that is not `required`
 * reads as `fallback(undefined)` (its default, or undefined) without it, so a process builds
 * only the schemas of the settings it was given: most of some 40 are unset, and building a zod schema
 * runs its constructors (about 10 ms for all of them at start-up, 2026-12-01).
 *
 * A setting is a plain function around that schema, not a zod schema itself: wrapping each of the
 * 40 in zod (a pipe of an optional string into a transform, in one object) cost every command, and
 * the Function App at cold start, 8–9 ms to build and 3 ms to parse, whatever was set (2026-12-02).
 */
export function setting<T>(
  schema: () => z.ZodMiniType<T, string | undefined>,
  options: { fallback: (raw: string | undefined) => T; fix?: string; required?: boolean },
): Setting<T> {
  let built: z.ZodMiniType<T, string | undefined> | undefined;
  return {
    read(value, problems) {
      const trimmed = value?.trim();
      const raw = trimmed === "" ? undefined : trimmed;
      if (raw !== undefined && isKeyVaultReference(raw)) {
        problems.push(KEY_VAULT_PROBLEM);
        return options.fallback(raw);
      }
      if (raw === undefined && options.required !== true) return options.fallback(raw);
      const result = (built ??= schema()).safeParse(raw);
      if (result.success) return result.data;
      // Only the message and the fix: zod's issue also holds the input, which may be a secret.
      for (const issue of result.error.issues) {
        problems.push({ problem: issue.message, fix: fixOf(issue) ?? options.fix ?? "" });
      }
      return options.fallback(raw);
    },
  };
}

/** The fallback of a setting without a default: the cross-checks only ask whether it is set. */
export const keepRaw = (raw: string | undefined) => raw;

/** Free text (an id, a directory, a connection string): never a problem. */
export const text = () => setting(() => z.string(), { fallback: keepRaw });

export function required(fix: string, schema: () => z.ZodMiniType<string, string> = () => z.string()) {
  return setting(() => z.pipe(z.string({ error: "is not set." }), schema()), {
    fallback: () => "",
    fix,
    required: true,
  });
}

/** Optional, and when set it must match `pattern`. `problem` quotes the value only if it is no secret. */
export function matching(pattern: RegExp, problem: (value: string) => string, fix: string) {
  return setting(() => z.string().check(z.regex(pattern, { error: (i) => problem(String(i.input)) })), {
    fallback: keepRaw,
    fix,
  });
}

export function wholeNumber(fallback: number, min: number, max: number, unit: string) {
  return setting(() => wholeNumberSchema(min, max), {
    fallback: () => fallback,
    fix: `Set it to a whole number of ${unit} from ${min} to ${max} (default ${fallback}).`,
  });
}

function wholeNumberSchema(min: number, max: number) {
  const outOfRange = { error: (i: { input?: unknown }) => `${String(i.input)} is out of range.` };
  const digits = z
    .string()
    .check(z.regex(/^\d+$/, { error: (i) => `"${String(i.input)}" is not a whole number.` }));
  const inRange = z.number().check(z.gte(min, outOfRange), z.lte(max, outOfRange));
  return z.pipe(z.pipe(digits, z.transform(Number)), inRange);
}

/**
 * One of `values`, in any case. A refinement rather than z.enum after lower-casing, so the problem
 * quotes the value as it was typed.
 */
export function oneOf<const V extends string>(
  values: readonly [V, ...V[]],
  fallback: V,
  problem: (value: string) => string,
  fix: string,
) {
  const allowed: readonly string[] = values;
  const schema = () =>
    z.pipe(
      z.pipe(
        z
          .string()
          .check(
            z.refine((v) => allowed.includes(v.toLowerCase()), { error: (i) => problem(String(i.input)) }),
          ),
        z.transform((v: string) => v.toLowerCase()),
      ),
      z.enum(values),
    );
  return setting(schema, { fallback: () => fallback, fix });
}

/**
 * A 6-field NCRONTAB expression. Hand-written: no zod check knows cron, and the problem says which
 * mistake was made (a TimeSpan, a 5-field Unix cron, a date that never comes, a pass every few seconds).
 */
export function schedule(fallback: string) {
  const schema = () =>
    z.string().check(
      z.superRefine((value, ctx) => {
        const read = readSchedule(value);
        // Only a schedule that parses and fires has runs to compare.
        const issue = typeof read === "string" ? { message: read } : tooOften(value, read);
        if (issue !== undefined) ctx.addIssue({ code: "custom", ...issue });
      }),
    );
  return setting(schema, {
    fallback: () => fallback,
    fix: `Use a 6-field NCRONTAB expression "{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "${fallback}".`,
  });
}

/** The schedule's next runs (RUNS_TO_COMPARE of them), or what is wrong with it. */
function readSchedule(value: string): Date[] | string {
  if (/^\d{1,2}:\d{2}:\d{2}$/.test(value)) {
    return `"${value}" is a TimeSpan, which the Consumption and Flex plans do not support.`;
  }
  const fields = value.split(/\s+/);
  if (fields.length !== 6) {
    return (
      `"${value}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; Azure Functions needs 6 (seconds first)` +
      (fields.length === 5 ? ` — this looks like a 5-field Unix cron: prefix it with "0 "` : "") +
      "."
    );
  }
  let runs: Date[];
  try {
    runs = new Cron(value, { paused: true, ...IN_UTC }).nextRuns(RUNS_TO_COMPARE);
  } catch (error) {
    return `"${value}" does not parse: ${(error as Error).message.replace(/^CronPattern: /, "")}.`;
  }
  // A pattern that parses but never fires (31 February) would leave the timer silent for good.
  return runs.length === 0 ? `"${value}" never fires (no such date).` : runs;
}

/**
 * The fewest runs that always show a gap under a minute when there is one: a schedule fires more
 * often than once a minute exactly when its seconds field holds two values or more, and of three
 * runs in a row, two then fall in the same minute (the first run may be its minute's last).
 */
const RUNS_TO_COMPARE = 3;

/**
 * A schedule that fires more than once a minute ("* * * * * *", "0,30 * * * * *", also "* 0 * * * *"
 * for a minute each hour). A watch pass reads every app on Graph, a sweep lists every grant on Nylas,
 * and both write the state store: a pass a second would hammer both APIs into throttling and the
 * store with writes, and Azure Functions timers are meant for minutes, not seconds. Judged from croner's next runs, in
 * UTC as serve runs them, rather than from the text: ranges, steps and lists all spell the same.
 */
function tooOften(
  value: string,
  runs: readonly Date[],
): { message: string; params: { fix: string } } | undefined {
  const gaps = runs.slice(1).map((run, i) => run.getTime() - runs[i]!.getTime());
  const gapMs = Math.min(...gaps);
  if (!(gapMs < 60_000)) return undefined;
  return {
    message: `"${value}" fires more often than once a minute (runs ${gapMs / 1000} s apart).`,
    params: {
      fix:
        'Put one value in the seconds field (the first), e.g. "0 */5 * * * *" for every 5 minutes. ' +
        'See Microsoft\'s "Timer trigger for Azure Functions", NCRONTAB expressions: ' +
        "https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions.",
    },
  };
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Comma-separated app ids, or "*". Hand-written rather than z.array of GUIDs: one problem lists every
 * bad id, where an array schema would file one problem per element.
 */
export function appIds() {
  const listed = z.transform((value: string, ctx): string[] | "*" => {
    if (value === "*") return "*";
    const ids = [
      ...new Set(
        value
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      ),
    ];
    const bad = ids.filter((id) => !GUID.test(id));
    if (bad.length > 0) {
      ctx.issues.push({
        code: "custom",
        message: `not an application (client) ID: ${bad.map((b) => `"${b}"`).join(", ")}.`,
        input: value,
      });
    }
    return ids.filter((id) => GUID.test(id)).map((id) => id.toLowerCase());
  });
  return setting(() => z.pipe(z.string(), listed), {
    fallback: () => [],
    fix: 'List Application (client) ID GUIDs separated by commas, or "*" for every app the identity can read.',
  });
}
