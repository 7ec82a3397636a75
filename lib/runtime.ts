/**
 * The Function App's process-wide state: config loaded once, clients built
 * once and reused across invocations (token caches, connection pools), and
 * their log lines routed to whichever invocation is running (the Functions host
 * ties logs to an invocation through its InvocationContext).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { loadConfig, type Env } from "./config.js";
import { createDeps, type Deps, type DepsOverrides } from "./deps.js";
import type { Logger } from "./logger.js";

const current = new AsyncLocalStorage<Logger>();

/** Host-level fallback, for lines logged outside any invocation (e.g. a background close). */
let fallback: Logger | undefined;

function route(level: keyof Logger) {
  return (message: string, ...args: unknown[]) => {
    const target = current.getStore() ?? fallback;
    target?.[level](message, ...args);
  };
}

const routingLogger: Logger = {
  debug: route("debug"),
  info: route("info"),
  warn: route("warn"),
  error: route("error"),
};

let deps: Deps | undefined;

/**
 * The shared deps. Throws ConfigError on bad settings, at every invocation until
 * fixed, so the platform's failure alerts fire.
 */
export function runtimeDeps(env: Env = process.env, overrides?: DepsOverrides): Deps {
  deps ??= createDeps(loadConfig(env), routingLogger, overrides);
  return deps;
}

/** Runs `fn` with log lines going to `logger` (the InvocationContext). */
export function withInvocationLogger<T>(logger: Logger, fn: () => Promise<T>): Promise<T> {
  return current.run(logger, fn);
}

/** For hosts that are not Azure (`watchdog serve`) and tests: replace or reset the shared deps. */
export function setRuntimeDeps(next: Deps | undefined, hostLogger?: Logger): void {
  deps = next;
  fallback = hostLogger;
}

/** The routing logger, for building deps elsewhere (serve) whose lines follow the invocation. */
export function invocationLogger(): Logger {
  return routingLogger;
}
