/**
 * A stand-in for the Functions worker, run as a child by bundle.test.ts
 * (Node's type stripping; it imports only `node:` modules):
 *
 *   node bundle-host.ts <app dir> <trigger>…
 *   (BUNDLE_HOST_IMPORT=nylas-webhook: import only that file;
 *    BUNDLE_HOST_NOTIFICATION: the signed delivery nylasWebhook is given)
 *
 * Like the worker it imports the app's entry files — every file its
 * package.json `main` matches, or only the named ones — then invokes the named
 * triggers in order, printing one JSON line: each answer, and every module
 * file loaded after each step (a `registerHooks` load hook sees them all, ESM
 * and CommonJS). Settings come from the environment, as in Azure.
 */
import { registerHooks } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});

interface Context {
  invocationId: string;
  functionName: string;
  log(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}
type HttpHandler = (
  request: unknown,
  context: Context,
) => Promise<{ status?: number; body?: unknown; jsonBody?: unknown }>;
type TimerHandler = (timer: unknown, context: Context) => Promise<void>;

export interface HostStep {
  step: string;
  status?: number;
  body?: unknown;
  error?: string;
  logs: string[];
  /** Module URLs loaded since the previous step. */
  loaded: string[];
}

const [appDir = "", ...triggers] = process.argv.slice(2);
const steps: HostStep[] = [];
let seen = 0;
const newlyLoaded = () => {
  const out = loaded.slice(seen);
  seen = loaded.length;
  return out;
};

function context(functionName: string, logs: string[]): Context {
  const line =
    (level: string) =>
    (...args: unknown[]) =>
      void logs.push(`${level} ${args.map(String).join(" ")}`);
  return {
    invocationId: `bundle-test-${functionName}`,
    functionName,
    log: line("info"),
    trace: line("trace"),
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
  };
}

/** The parts of HttpRequest the triggers use. */
function request(method: string, body: string, headers: Record<string, string>) {
  const bytes = Buffer.from(body);
  return {
    method,
    url: "https://watchdog.example/api/trigger",
    query: new URLSearchParams(),
    params: {},
    headers: new Headers(headers),
    arrayBuffer: () => Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)),
  };
}

// What the worker does at start-up: import every file `main` matches (or, for a narrower test, some).
const main = (JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as { main: string }).main;
// BUNDLE_HOST_ENTRIES: another directory of trigger files (the tsc output, for comparison).
const entryDir = process.env.BUNDLE_HOST_ENTRIES ?? join(appDir, main.slice(0, main.lastIndexOf("/")));
const onlyImport = process.env.BUNDLE_HOST_IMPORT?.split(",");
const modules: Record<string, Record<string, unknown>> = {};
for (const file of readdirSync(entryDir).filter((f) => f.endsWith(".js"))) {
  const name = file.slice(0, -3);
  if (onlyImport !== undefined && !onlyImport.includes(name)) continue;
  modules[name] = (await import(pathToFileURL(join(entryDir, file)).href)) as Record<string, unknown>;
}
steps.push({ step: "import", logs: [], loaded: newlyLoaded() });

const handler = <T>(file: string, name: string): T => {
  const fn = modules[file]?.[name];
  if (typeof fn !== "function") throw new Error(`${file}.js exports no ${name}`);
  return fn as T;
};

for (const trigger of triggers) {
  const logs: string[] = [];
  const step: HostStep = { step: trigger, logs, loaded: [] };
  try {
    if (trigger === "nylasWebhook") {
      const delivery = JSON.parse(process.env.BUNDLE_HOST_NOTIFICATION ?? "{}") as {
        body: string;
        headers: Record<string, string>;
      };
      const answer = await handler<HttpHandler>("nylas-webhook", "nylasWebhook")(
        request("POST", delivery.body, delivery.headers),
        context(trigger, logs),
      );
      step.status = answer.status ?? 200;
      step.body = answer.body;
    } else if (trigger === "health") {
      const answer = await handler<HttpHandler>("health", "health")(
        request("GET", "", {}),
        context(trigger, logs),
      );
      step.status = answer.status ?? 200;
      step.body = answer.jsonBody;
    } else {
      const file = trigger === "secretWatchdog" ? "secret-watchdog" : "grant-sweep";
      await handler<TimerHandler>(file, trigger)(
        { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } },
        context(trigger, logs),
      );
    }
  } catch (error) {
    step.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  step.loaded = newlyLoaded();
  steps.push(step);
}

process.stdout.write(`${JSON.stringify(steps)}\n`);
