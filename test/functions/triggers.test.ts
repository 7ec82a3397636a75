/**
 * Each trigger is declared once, beside its handler: the Functions host gets
 * its registration from that declaration, and bin/triggers.ts hands every
 * declaration to `watchdog serve`, quietly (outside Azure, @azure/functions
 * warns on each registration that it is in test mode).
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import azureFunctions from "@azure/functions";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { TriggerDescriptor } from "../../lib/host/trigger.js";
import { redactingHandler } from "../../lib/host/redact-answer.js";

const { app } = azureFunctions;
const http = vi.spyOn(app, "http");
const timer = vi.spyOn(app, "timer");
const warn = vi.spyOn(console, "warn");

let triggers: readonly TriggerDescriptor[];
// Copied as they happen: the runner may clear a spy's record between hooks and tests.
let httpCalls: typeof http.mock.calls;
let timerCalls: typeof timer.mock.calls;
let warnings: typeof warn.mock.calls;
beforeAll(async () => {
  // First import of functions/ in this process: their registrations run now.
  const { loadTriggers } = await import("../../bin/triggers.js");
  triggers = await loadTriggers();
  [httpCalls, timerCalls, warnings] = [[...http.mock.calls], [...timer.mock.calls], [...warn.mock.calls]];
  vi.restoreAllMocks();
});

describe("trigger declarations", () => {
  it("one per file in functions/, each with a name of its own, each registered", () => {
    expect(httpCalls.length + timerCalls.length).toBe(triggers.length);
    const files = readdirSync(fileURLToPath(new URL("../../functions/", import.meta.url))).filter((f) =>
      f.endsWith(".ts"),
    );
    expect(triggers).toHaveLength(files.length);
    expect(new Set(triggers.map((t) => t.name)).size).toBe(triggers.length);
  });

  it("are what the Functions host is given: the same route, methods, key level and handler", () => {
    expect(triggers.filter((t) => t.kind === "http")).toHaveLength(httpCalls.length);
    for (const [name, options] of httpCalls) {
      const t = triggers.find((d) => d.name === name);
      expect(t?.kind).toBe("http");
      if (t?.kind !== "http") continue;
      // toMatchObject: the library adds its own output binding to the options it is given.
      expect(options).toMatchObject({
        route: t.route,
        methods: [...t.methods],
        authLevel: t.authLevel,
        // The descriptor's handler behind the redaction choke point: the same function serve runs.
        handler: redactingHandler(t.handler),
      });
    }
  });

  it("timers read their NCRONTAB schedule from the app setting they name", () => {
    expect(timerCalls.map(([name, options]) => [name, options.schedule])).toEqual(
      expect.arrayContaining([
        ["secretWatchdog", "%WATCHDOG_SCHEDULE%"],
        ["grantSweep", "%GRANT_SWEEP_SCHEDULE%"],
      ]),
    );
    expect(timerCalls).toHaveLength(2);
    for (const [name, options] of timerCalls) {
      expect(options.handler).toBe(triggers.find((t) => t.name === name)?.handler);
    }
  });

  it("the deployed routes: the webhook anonymous (its signature is the check), health behind the function key", () => {
    const byName = new Map(triggers.map((t) => [t.name, t]));
    expect(byName.get("nylasWebhook")).toMatchObject({
      kind: "http",
      route: "nylas/webhook",
      methods: ["GET", "POST"],
      authLevel: "anonymous",
    });
    expect(byName.get("health")).toMatchObject({
      kind: "http",
      route: "health",
      methods: ["GET"],
      authLevel: "function",
    });
  });

  it("are loaded without @azure/functions' test-mode warnings", () => {
    const testMode = warnings.filter((args) => String(args[0]).includes('"@azure/functions" package'));
    expect(testMode).toEqual([]);
  });
});
