/**
 * `watchdog <command>`: parses argv, builds deps, calls the same `lib/` code the
 * Functions call, and maps results to the contract's exit codes
 * (0 ok · 1 attention · 2 bad usage/config · 3 service unreachable or refusing).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError, errorMessage } from "../errors.js";
import { streamLogger } from "../logger.js";
import type { TriggerDescriptor } from "../host/trigger.js";
import { EXIT, redactedIo, type CliIo, type ExitCode } from "./io.js";
import { failureDocument, failureOf, failureText, schemaOf } from "./failure.js";

export interface CommandContext {
  io: CliIo;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /**
   * Loads the Function App's triggers (functions/*.ts), handed in by the entry point: what serve
   * runs. Loaded only by the commands that serve them: @azure/functions is no part of a scan.
   */
  loadTriggers: () => Promise<readonly TriggerDescriptor[]>;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Longer help: what it does, exit codes. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Runs until it is stopped (serve): it keeps V8's default tiering (bin/watchdog.ts). */
  runsUntilStopped?: true;
  run(context: CommandContext): Promise<ExitCode>;
}

const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean", short: "v" },
} as const;

export function commandLogger(io: CliIo, values: CommandContext["values"]) {
  return streamLogger((line) => io.err(line), { verbose: values.verbose === true });
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  return [
    "secret-watchdog: keeps the Azure client secret behind your Nylas Microsoft connector from expiring.",
    "",
    "Usage: watchdog <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'watchdog <command> --help' for details. Settings come from the environment (see README).",
    "Exit codes: 0 ok · 1 needs attention · 2 bad usage or configuration · 3 a service could not be reached or refused.",
    "",
  ].join("\n");
}

function commandHelp(command: Command): string {
  const opts = Object.entries(command.options)
    .map(([name, o]) => `  --${name}${o.type === "string" ? " <value>" : ""}`)
    .join("\n");
  return `Usage: watchdog ${command.usage}\n\n${command.help.trim()}\n${opts ? `\nOptions:\n${opts}\n  --help\n  --verbose\n` : ""}`;
}

/**
 * `beforeRun` is the process's last word before a command runs, once its arguments have parsed
 * (bin/watchdog.ts sets V8's tiering there): help and usage errors never reach it, so they pay
 * nothing for what only a running command needs.
 */
export async function runCli(
  argv: readonly string[],
  rawIo: CliIo,
  commands: readonly Command[],
  loadTriggers: () => Promise<readonly TriggerDescriptor[]> = () => Promise.resolve([]),
  beforeRun: (command: Command) => Promise<void> = () => Promise.resolve(),
): Promise<ExitCode> {
  // Every byte a command prints passes the redactor: the CLI's side of the one choke point.
  const io = redactedIo(rawIo);
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? commands.find((c) => c.name === rest[0]) : undefined;
    io.out(topic ? commandHelp(topic) : overview(commands));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`watchdog: unknown command "${name}".\n\n${overview(commands)}`);
    return EXIT.usage;
  }

  // A --json command prints exactly one JSON document on every exit path, its errors included.
  const takesJson = "json" in command.options;
  let parsed: { values: CommandContext["values"]; positionals: string[] };
  try {
    const result = parseArgs({
      args: [...rest],
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    parsed = { values: result.values, positionals: result.positionals };
  } catch (error) {
    io.err(`watchdog ${command.name}: ${errorMessage(error)}\n\n${commandHelp(command)}`);
    if (takesJson && rest.includes("--json")) {
      const usage = failureOf(command.name, new UsageError(errorMessage(error)));
      io.out(failureDocument(schemaOf(command.name), usage));
    }
    return EXIT.usage;
  }
  if (parsed.values.help === true) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }

  // A command that streams its document (scan, grants) closes it itself when it fails part-way.
  let printed = false;
  const commandIo: CliIo = {
    ...io,
    out: (text) => {
      printed = true;
      io.out(text);
    },
  };
  try {
    await beforeRun(command);
    return await command.run({
      io: commandIo,
      values: parsed.values,
      positionals: parsed.positionals,
      loadTriggers,
    });
  } catch (error) {
    const failure = failureOf(command.name, error);
    io.err(failureText(command.name, error, parsed.values.verbose === true));
    if (takesJson && parsed.values.json === true && !printed)
      io.out(failureDocument(schemaOf(command.name), failure));
    return failure.exitCode;
  }
}
