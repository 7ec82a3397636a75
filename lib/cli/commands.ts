/** Every CLI command, in the order `watchdog --help` lists them. */
import type { Command } from "./main.js";
import { scanCommand } from "./scan-command.js";
import { runCommand } from "./run-command.js";
import { grantsCommand } from "./grants-command.js";
import { sweepCommand } from "./sweep-command.js";
import { healthCommand } from "./health-command.js";
import { serveCommand } from "./serve-command.js";
import { sandboxCommand } from "./sandbox-command.js";
import { doctorCommand } from "./doctor-command.js";

export const COMMANDS: readonly Command[] = [
  scanCommand,
  runCommand,
  grantsCommand,
  sweepCommand,
  healthCommand,
  doctorCommand,
  serveCommand,
  sandboxCommand,
];
