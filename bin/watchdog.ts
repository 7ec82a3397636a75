#!/usr/bin/env node
import { enableCompileCache } from "node:module";
import { runCli } from "../lib/cli/main.js";
import { COMMANDS } from "../lib/cli/commands.js";
import { processIo } from "../lib/cli/io.js";
import { loadTriggers } from "./triggers.js";

// Before any command's chunk loads: V8 keeps what it compiled of the SDKs (@azure/identity with
// MSAL is half a megabyte) in Node's compile cache, so the next run skips that parse (about 39 ms
// of CPU per scan, bench "scan"), as tsc, ESLint and Prettier do. Node validates every entry
// against its source and never throws from here: NODE_COMPILE_CACHE=dir moves it,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();

// undici, behind fetch and the Graph SDK, parses HTTP with llhttp compiled to WebAssembly. After a
// few responses V8 starts optimizing its parser function in the background (about 110 ms of
// TurboFan here), and a process cannot exit before that compile ends: a small scan waited for it
// after its last byte was out, for code it would never run. A larger budget (V8's default is 13
// million) leaves the parser on V8's baseline compiler (Liftoff) for as long as a command runs;
// `serve` runs for days, where optimizing pays, and keeps V8's default; `--help` makes no request
// and does not load node:v8.
const name = process.argv[2];
if (COMMANDS.some((command) => command.name === name && name !== "serve")) {
  const { setFlagsFromString } = await import("node:v8");
  setFlagsFromString("--wasm-tiering-budget=1000000000");
}

const code = await runCli(process.argv.slice(2), processIo(), COMMANDS, loadTriggers);
// Let stdout drain before exiting; long-running commands (serve) never return here.
process.exitCode = code;
