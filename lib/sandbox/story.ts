/**
 * `watchdog sandbox` (what `npm start` runs): the whole story on the
 * simulator — Entra, Graph, Nylas and four alert sinks over HTTPS on
 * 127.0.0.1 — through the real SDKs and the very code the Functions run.
 * A manual clock lets it show months of a secret's life in seconds. Contoso's
 * chapters (contoso-chapters.ts, rotation-chapters.ts) share one tenant; two
 * run on tenants of their own, so Contoso's story stays as it is: a second
 * installation refused, then adopting (installations-chapter.ts), and
 * sign-in evidence showing Nylas moved every grant (evidence-chapter.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { StoryContext, StoryIo } from "./story-context.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, DAY_MS, HOUR_MS } from "../clock.js";
import { loadConfig } from "../config.js";
import { createDeps } from "../deps.js";
import { streamLogger, type Logger } from "../logger.js";
import { startSimulator } from "../sim/index.js";
import { startHost, type RunningHost } from "../host/serve.js";
import type { TriggerDescriptor } from "../host/trigger.js";
import { indent } from "./describe.js";
import { installationsChapter } from "./installations-chapter.js";
import { evidenceChapter } from "./evidence-chapter.js";
import { selfCheckChapter } from "./self-check-chapter.js";
import { healthChapter } from "./health-chapter.js";
import { contosoEmails, contosoEnv, freePort, seedContoso, type Contoso } from "./contoso.js";
import { grantBreaksChapter, scanChapter, serveChapter, tenantChapter } from "./contoso-chapters.js";
import {
  escalationChapter,
  expiryChapter,
  reauthChapter,
  rotationChapter,
  secondRotationChapter,
} from "./rotation-chapters.js";

export { describeAlerts } from "./describe.js";

export interface SandboxOptions {
  verbose: boolean;
  /** The Function App's triggers (bin/triggers.ts), served by `watchdog serve` for the simulated Nylas. */
  triggers: readonly TriggerDescriptor[];
  /** Extra chapters appended by other features (doctor). */
  chapters?: ((ctx: StoryContext) => Promise<void>)[];
}

export type { StoryContext, StoryIo } from "./story-context.js";

/** Verbose: the product's own log lines, indented under the story. Otherwise they are kept out of it. */
function storyLogger(io: StoryIo, verbose: boolean): Logger {
  if (verbose) return streamLogger((line) => io.err(`    │ ${line}`), { verbose: false });
  const productLog: string[] = [];
  return {
    debug: () => undefined,
    info: (m) => void productLog.push(m),
    warn: (m) => void productLog.push(m),
    error: (m) => void productLog.push(`error ${m}`),
  };
}

export async function runSandbox(io: StoryIo, options: SandboxOptions): Promise<0 | 1> {
  const clock = new ManualClock(new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS));
  const day0 = clock.now().getTime();
  const out = (text = "") => io.out(`${text}\n`);
  const t0 = performance.now();
  const heading = (text: string) => {
    if (options.verbose) io.err(`[sandbox +${((performance.now() - t0) / 1000).toFixed(1)} s]\n`);
    const day = Math.floor((clock.now().getTime() - day0) / DAY_MS);
    out();
    out(
      `── Day ${day} (${clock.now().toISOString().slice(0, 10)}) · ${text} ${"─".repeat(Math.max(0, 60 - text.length))}`,
    );
  };
  const logger = storyLogger(io, options.verbose);

  out("secret-watchdog sandbox: the outage it prevents, on a simulated tenant.");
  out("Entra ID, Microsoft Graph, Nylas v3 and four alert sinks run as HTTPS servers on 127.0.0.1;");
  out("the real @azure/identity, Graph and Nylas SDKs talk to them. Time is simulated.");

  const emails = contosoEmails();
  const sim = await startSimulator({
    clock,
    propagationDelayMs: 45_000,
    seed: { connectorSecretDaysLeft: 20, grantEmails: emails },
  });
  const stateDir = mkdtempSync(join(tmpdir(), "watchdog-sandbox-"));
  let host: RunningHost | undefined;
  try {
    const seeded = seedContoso(sim, day0);
    const port = await freePort();
    const env = contosoEnv(sim, seeded, stateDir, port);
    // So doctor can also read consent grants (Directory.Read.All); rotation needs only OwnedBy.
    sim.tenant.grantAppRole(sim.watchdog.servicePrincipalId, "Directory.Read.All");
    const config = loadConfig(env);
    const deps = () => createDeps(config, logger, { clock });
    host = await startHost({ port, deps: deps(), logger, timers: false, triggers: options.triggers });
    seeded.webhook.webhook_url = env.WEBHOOK_PUBLIC_URL!;
    const ctx: StoryContext = { sim, clock, env, say: out, heading, deps, logger };
    let seen = 0;
    const contoso: Contoso = {
      ...ctx,
      ...seeded,
      day0,
      config,
      emails,
      hostUrl: host.url,
      newAlerts: () => {
        const fresh = sim.sinks.received.slice(seen);
        seen = sim.sinks.received.length;
        return fresh;
      },
    };

    tenantChapter(contoso);
    await scanChapter(contoso);
    serveChapter(contoso);
    const adeleLink = await grantBreaksChapter(contoso);
    await rotationChapter(contoso);
    await reauthChapter(contoso, adeleLink);
    await escalationChapter(contoso);
    await expiryChapter(contoso);
    await secondRotationChapter(contoso);

    for (const chapter of options.chapters ?? []) await chapter(ctx);
    await healthChapter(ctx, { day0, host, newAlerts: contoso.newAlerts });
    await selfCheckChapter(ctx, { newAlerts: contoso.newAlerts });
    await installationsChapter(ctx);
    await evidenceChapter(ctx);
    totals(ctx);
    return 0;
  } finally {
    await host?.close();
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function totals({ heading, say, sim }: StoryContext): void {
  heading("Totals");
  const by = (sink: string) => sim.sinks.received.filter((r) => r.sink === sink).length;
  say(
    indent(
      `Contoso's alert deliveries: webhook ${by("webhook")}, Slack ${by("slack")}, Teams ${by("teams")}, PagerDuty ${by("pagerduty")}. Users who had to start over from scratch: 0.`,
    ),
  );
  say(indent("Next: `npm test`; `npx watchdog --help`; the README for running against a real tenant."));
}
