#!/usr/bin/env node
import { enableCompileCache } from "node:module";
import { runCli, type Command } from "../lib/cli/main.js";
import { COMMANDS } from "../lib/cli/commands.js";
import { processIo } from "../lib/cli/io.js";
import { applyShortRunTiering } from "../lib/cli/v8-tiering.js";
import { loadTriggers } from "./triggers.js";

// Before any command's chunk loads: V8 keeps what it compiled of the SDKs (@azure/identity with
// MSAL is half a megabyte) in Node's compile cache, so the next run skips that parse (about 39 ms
// of CPU per scan, bench "scan"), as tsc, ESLint and Prettier do. Node validates every entry
// against its source and never throws from here: NODE_COMPILE_CACHE=dir moves it,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();

// A command that runs for seconds must not wait at exit for V8 to optimize undici's HTTP parser
// (lib/cli/v8-tiering.ts). `serve` runs until stopped, where optimizing pays, and keeps V8's
// default; help and usage errors make no request and load nothing for it.
const beforeRun = async (command: Command) => {
  if (command.runsUntilStopped !== true) await applyShortRunTiering();
};

const code = await runCli(process.argv.slice(2), processIo(), COMMANDS, loadTriggers, beforeRun);
// Let stdout drain before exiting; long-running commands (serve) never return here.
process.exitCode = code;
