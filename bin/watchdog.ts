#!/usr/bin/env node
import { enableCompileCache } from "node:module";
import { runCli, type Command } from "../lib/cli/main.js";
import { COMMANDS } from "../lib/cli/commands.js";
import { processIo } from "../lib/cli/io.js";
import { applyShortRunTiering } from "../lib/cli/v8-tiering.js";
import { capYoungGeneration } from "../lib/cli/young-generation.js";
import { loadTriggers } from "./triggers.js";

// Before any command's chunk loads: V8 keeps what it compiled of the SDKs (@azure/identity with
// MSAL is half a megabyte) in Node's compile cache, so the next run skips that parse (about 39 ms
// of CPU per scan, bench "scan"), as tsc, ESLint and Prettier do. Node validates every entry
// against its source and never throws from here: NODE_COMPILE_CACHE=dir moves it,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();

// A command that runs for seconds must not wait at exit for V8 to optimize undici's HTTP parser
// (lib/cli/v8-tiering.ts), nor let V8 grow its young generation to the full 32 MiB because it ran
// long (lib/cli/young-generation.ts). `serve` runs until stopped, where optimizing pays and a
// larger young generation means fewer collections, and keeps V8's defaults; help and usage errors
// make no request and load nothing for either.
const beforeRun = async (command: Command) => {
  if (command.runsUntilStopped === true) return;
  await applyShortRunTiering();
  await capYoungGeneration();
};

const code = await runCli(process.argv.slice(2), processIo(), COMMANDS, loadTriggers, beforeRun);
// Let stdout drain before exiting; long-running commands (serve) never return here.
process.exitCode = code;
