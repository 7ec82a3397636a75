#!/usr/bin/env node
import { runCli } from "../lib/cli/main.js";
import { COMMANDS } from "../lib/cli/commands.js";
import { processIo } from "../lib/cli/io.js";
import { loadTriggers } from "./triggers.js";

const code = await runCli(process.argv.slice(2), processIo(), COMMANDS, loadTriggers);
// Let stdout drain before exiting; long-running commands (serve) never return here.
process.exitCode = code;
