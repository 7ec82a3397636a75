#!/usr/bin/env node
/**
 * Part of `npm run build`: marks every `bin` of package.json executable
 * (`node scripts/chmod-bins.mjs [package dir]`, default this repository).
 *
 * tsc writes dist/bin/watchdog.js as an ordinary file (0644). npm makes the
 * bins of installed dependencies executable when it links them, but not this
 * package's own, so on a fresh clone `npx watchdog` found the file and the
 * shell refused to run it ("Permission denied", exit 127). Windows has no
 * execute bit: there chmod changes nothing, and npm's .cmd shims call node.
 */
import { chmodSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

const dir = resolve(process.argv[2] ?? fileURLToPath(new URL("../", import.meta.url)));
/** @type {unknown} */
const parsed = JSON.parse(readFileSync(resolve(dir, "package.json"), "utf8"));
const bin = /** @type {{ bin?: string | Record<string, string> }} */ (parsed).bin;
const targets = typeof bin === "string" ? [bin] : Object.values(bin ?? {});
for (const target of targets) chmodSync(resolve(dir, target), 0o755);
