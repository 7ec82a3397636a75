/**
 * `watchdog sandbox` (what `npm start` runs): the whole story on the
 * simulator — Entra, Graph, Nylas and four alert sinks over HTTPS on
 * 127.0.0.1 — through the real SDKs and the very code the Functions run.
 * A manual clock lets it show months of a secret's life in seconds. Two
 * chapters run on tenants of their own, so Contoso's story stays as it is: a
 * second installation refused, then adopting (installations-chapter.ts), and
 * sign-in evidence showing Nylas moved every grant (evidence-chapter.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { StoryContext } from "./story-context.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, DAY_MS, HOUR_MS } from "../clock.js";
import { loadConfig } from "../config.js";
import { createDeps } from "../deps.js";
import { streamLogger, type Logger } from "../logger.js";
import type { CliIo } from "../cli/io.js";
import { startSimulator, type Simulator } from "../sim/index.js";
import { startHost, type RunningHost } from "../host/serve.js";
import { scanCredentials } from "../watch/scan.js";
import { formatScanTable } from "../watch/format-scan.js";
import { runWatchdogPass, type WatchdogPassResult } from "../watchdog-pass.js";
import { sweepGrants } from "../grants/grant-passes.js";
import { listAttentionGrants } from "../grants/list-attention-grants.js";
import { readHealth } from "../health.js";
import { parseMarker, rotationIdOf } from "../rotation/marker.js";
import { describeAlerts, indent } from "./describe.js";
import { installationsChapter } from "./installations-chapter.js";
import { evidenceChapter } from "./evidence-chapter.js";

export { describeAlerts } from "./describe.js";

export interface SandboxOptions {
  verbose: boolean;
  /** Extra chapters appended by other features (doctor). */
  chapters?: ((ctx: StoryContext) => Promise<void>)[];
}

export type { StoryContext } from "./story-context.js";

const MICROSOFT_USERS = 200;
const GOOGLE_USERS = 40;

export async function runSandbox(io: CliIo, options: SandboxOptions): Promise<0 | 1> {
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
  const productLog: string[] = [];
  const logger: Logger = options.verbose
    ? streamLogger((line) => io.err(`    │ ${line}`), { verbose: false })
    : {
        debug: () => undefined,
        info: (m) => void productLog.push(m),
        warn: (m) => void productLog.push(m),
        error: (m) => void productLog.push(`error ${m}`),
      };

  out("secret-watchdog sandbox: the outage it prevents, on a simulated tenant.");
  out("Entra ID, Microsoft Graph, Nylas v3 and four alert sinks run as HTTPS servers on 127.0.0.1;");
  out("the real @azure/identity, Graph and Nylas SDKs talk to them. Time is simulated.");

  const emails = Array.from(
    { length: MICROSOFT_USERS },
    (_, i) => `user${String(i + 1).padStart(3, "0")}@contoso.com`,
  );
  emails[0] = "adele.vance@contoso.com";
  emails[1] = "alex.wilber@contoso.com";
  const sim = await startSimulator({
    clock,
    propagationDelayMs: 45_000,
    seed: { connectorSecretDaysLeft: 20, grantEmails: emails },
  });
  const stateDir = mkdtempSync(join(tmpdir(), "watchdog-sandbox-"));
  let host: RunningHost | undefined;
  try {
    const app = sim.nylasApp!;
    // A work-or-school-only app: no two-secret cap, so the story can show two rotations.
    app.signInAudience = "AzureADMultipleOrgs";
    app.displayName = "Contoso Mail (Nylas)";
    // As in Nylas: a sign-in counts only once the application's callback exchanges the code.
    sim.tenant.nylas.requireCodeExchange = true;
    for (let i = 0; i < GOOGLE_USERS; i++)
      sim.tenant.nylas.addGrant({ email: `g${i + 1}@fabrikam.com`, provider: "google" });
    const payroll = sim.tenant.addApp({ displayName: "Payroll sync" });
    sim.tenant.addSecret(payroll.id, { displayName: "prod", endDateTime: new Date(day0 + 9 * DAY_MS) });
    const crm = sim.tenant.addApp({ displayName: "CRM connector" });
    sim.tenant.addSecret(crm.id, { displayName: "2026", endDateTime: new Date(day0 + 300 * DAY_MS) });
    for (const a of [payroll, crm]) sim.tenant.addOwner(a.id, sim.watchdog.servicePrincipalId);
    const webhook = sim.tenant.nylas.addWebhook({ webhook_url: "https://placeholder.invalid/" });

    const sinks = sim.urls.sinks;
    const env = sim.env({
      WATCHDOG_STATE_DIR: stateDir,
      WATCH_APP_IDS: `${payroll.appId},${crm.appId}`,
      NYLAS_WEBHOOK_SECRET: webhook.webhook_secret,
      NYLAS_CLIENT_ID: sim.tenant.nylas.applicationId,
      REAUTH_REDIRECT_URI: sim.tenant.nylas.callbackUris[0] ?? "https://app.contoso.com/nylas/callback",
      ALERT_WEBHOOK_URL: `${sinks}/webhook/contoso`,
      ALERT_WEBHOOK_SECRET: "sandbox-alert-signing-secret",
      SLACK_WEBHOOK_URL: `${sinks}/slack/T0SANDBOX/B0SANDBOX/sandboxslacktoken`,
      TEAMS_WEBHOOK_URL: `${sinks}/teams/workflows/sandboxteamstoken`,
      PAGERDUTY_ROUTING_KEY: "abcdef0123456789abcdef0123456789",
      PAGERDUTY_EVENTS_URL: `${sinks}/pagerduty/v2/enqueue`,
    });
    const port = await freePort();
    env.WEBHOOK_PUBLIC_URL = `http://127.0.0.1:${port}/api/nylas/webhook`;
    // So doctor can also read consent grants (Directory.Read.All); rotation needs only OwnedBy.
    sim.tenant.grantAppRole(sim.watchdog.servicePrincipalId, "Directory.Read.All");
    const config = loadConfig(env);
    const deps = () => createDeps(config, logger, { clock });
    host = await startHost({ port, deps: deps(), logger, timers: false });
    webhook.webhook_url = env.WEBHOOK_PUBLIC_URL;
    const ctx: StoryContext = { sim, clock, env, say: out, heading, deps, logger };
    let seen = 0;
    const newAlerts = () => {
      const fresh = sim.sinks.received.slice(seen);
      seen = sim.sinks.received.length;
      return fresh;
    };

    heading("The tenant");
    out(
      indent(
        `Contoso signs users in to its product through Nylas. The Nylas Microsoft connector uses the Azure app\n` +
          `registration "${app.displayName}" (${app.appId}). ${MICROSOFT_USERS} Microsoft users and ${GOOGLE_USERS} Google users have grants.\n` +
          `The connector's client secret expires in 20 days. When it does, every Microsoft grant goes invalid and\n` +
          `every one of those ${MICROSOFT_USERS} users must sign in again (seed 001) — unless something acts first.`,
      ),
    );

    heading("watchdog scan");
    const summary = await scanCredentials(deps(), {
      watchAppIds: config.watchAppIds,
      thresholds: {
        alertBeforeDays: config.alerts.alertBeforeDays,
        rotateBeforeDays: config.rotation.rotateBeforeDays,
      },
    });
    out(
      indent(
        formatScanTable(summary, {
          alertBeforeDays: config.alerts.alertBeforeDays,
          rotateBeforeDays: config.rotation.rotateBeforeDays,
        }),
      ),
    );
    out(
      indent(
        "→ exit 1: Payroll sync's secret is within ALERT_BEFORE_DAYS (14); the connector's is due for rotation (≤ 60).",
      ),
    );

    heading("watchdog serve: listening for Nylas webhooks");
    out(indent(`The Function App's HTTP routes on ${host.url}: POST /api/nylas/webhook, GET /api/health.`));
    out(
      indent(
        `Nylas webhook ${webhook.id} (grant.created/updated/deleted/expired) points at it, signed with its webhook_secret.`,
      ),
    );

    heading("A user's grant breaks");
    const adele = sim.tenant.nylas.grantByEmail("adele.vance@contoso.com")!;
    const started = performance.now();
    const [delivery] = await sim.nylas.expireGrant(adele.id);
    out(
      indent(
        `adele.vance@contoso.com changed her password; Nylas marks her grant invalid and POSTs a signed grant.expired.\n` +
          `→ ${delivery?.status ?? "?"} from /api/nylas/webhook in ${Math.round(performance.now() - started)} ms (Nylas allows 10 s). Incident grant.invalid:${adele.id}, critical.`,
      ),
    );
    const adeleAlerts = newAlerts();
    out(indent(describeAlerts(adeleAlerts)));
    // The incident carries her re-authentication link (generic webhook: incident.links).
    const adeleLink = adeleAlerts
      .filter((r) => r.sink === "webhook")
      .map((r) => JSON.parse(r.body) as { incident?: { links?: { url: string }[] } })
      .flatMap((b) => b.incident?.links ?? [])[0]?.url;
    const again = sim.nylas.buildNotification("grant.expired", adele, {
      id: (JSON.parse(delivery?.body ?? "{}") as { id: string }).id,
      attempt: 2,
    });
    const dup = await fetch(webhook.webhook_url, {
      method: "POST",
      headers: again.headers,
      body: again.body,
    });
    out(
      indent(
        `Nylas delivers the same notification again (at-least-once): → ${dup.status} ${await dup.text()}; alerts sent: ${newAlerts().length}.`,
      ),
    );

    heading("watchdog run: rotation");
    const first = await runWatchdogPass(deps());
    out(indent(describeRotation(first, sim)));
    const reauth = newAlerts();
    const requests = reauth.filter((r) => r.body.includes('"grant.reauth_requested"'));
    out(
      indent(
        `${requests.length} grant.reauth_requested events went to the application's webhook, one per user, e.g.:`,
      ),
    );
    const example = JSON.parse(requests[0]?.body ?? "{}") as { grant?: unknown };
    out(indent(JSON.stringify(example.grant ?? {}, null, 2), "     "));
    out(indent(describeAlerts(reauth.filter((r) => !r.body.includes('"grant.reauth_requested"')))));

    heading("Users re-authenticate");
    clock.advance(3 * HOUR_MS);
    if (adeleLink !== undefined) {
      const click = await fetch(adeleLink, { redirect: "manual" });
      const callback = new URL(click.headers.get("location") ?? "https://invalid.example/");
      const code = callback.searchParams.get("code") ?? "";
      out(
        indent(
          `Adele opens her link (GET /v3/connect/auth?…login_hint=adele…) → ${click.status} to the app's callback ${callback.origin}${callback.pathname}?code=…; Nylas has re-authenticated nothing yet.`,
        ),
      );
      // What REAUTH_REDIRECT_URI's handler does (docs/reauth-callback.md): exchange the code.
      const exchange = await sim.exchangeCode(code, `${callback.origin}${callback.pathname}`);
      await exchange.arrayBuffer();
      await sim.nylas.settle();
      out(
        indent(
          `The callback exchanges the code (POST /v3/connect/token) → ${exchange.status}: only now does Nylas re-authenticate her grant with the NEW secret and send grant.updated.`,
        ),
      );
      out(indent(describeAlerts(newAlerts())));
    }
    const movers = emails.slice(1, 151);
    for (let i = 0; i < movers.length; i += 50) {
      clock.advance(DAY_MS);
      await signInAll(sim, movers.slice(i, i + 50));
    }
    const sweep = await sweepGrants(deps());
    out(
      indent(
        `Over the next days ${movers.length} more users sign in again. watchdog sweep: ${sweep.grants} grants, ${sweep.invalid} invalid, ${sweep.onSupersededSecrets} still on the old secret.`,
      ),
    );
    newAlerts();

    clock.set(new Date(day0 + 7 * DAY_MS));
    heading("Seven days before the old secret expires");
    const escalate = await runWatchdogPass(deps());
    out(
      indent(
        `watchdog run: ${escalate.migration.dependents} users still on the old secret, which now expires within ALERT_BEFORE_DAYS → the migration incident escalates.`,
      ),
    );
    out(indent(describeAlerts(newAlerts())));
    const listing: string[] = [];
    for await (const g of listAttentionGrants(deps()))
      if (listing.length < 3)
        listing.push(`${g.email}  ${g.reason}  deadline ${g.deadline ?? "-"}\n    ${g.reauthUrl ?? ""}`);
    out(indent(`watchdog grants (first 3):\n${indent(listing.join("\n"))}`));

    clock.advance(DAY_MS);
    const old = sim.tenant.appByAppId(payroll.appId)!.passwordCredentials[0]!;
    sim.tenant.addSecret(payroll.id, {
      displayName: "prod 2027",
      endDateTime: new Date(clock.now().getTime() + 365 * DAY_MS),
    });
    sim.tenant.removePassword(sim.tenant.appByAppId(payroll.appId)!, old.keyId);
    const fixed = await runWatchdogPass(deps());
    out(
      indent(
        `Day 8: Payroll sync's owners (paged on day 0) create a new secret and delete the old one. watchdog run → exit ${fixed.exitCode}:`,
      ),
    );
    out(indent(describeAlerts(newAlerts().filter((r) => !r.body.includes("secret.migration")))));

    clock.advance(DAY_MS);
    await signInAll(sim, emails.slice(151));
    const done = await sweepGrants(deps());
    out(
      indent(
        `The last ${MICROSOFT_USERS - 151} users sign in again. watchdog sweep: ${done.onSupersededSecrets} left on the old secret.`,
      ),
    );
    out(indent(describeAlerts(newAlerts())));

    clock.set(new Date(day0 + 21 * DAY_MS));
    heading("The old secret expires");
    const ticked = await sim.nylas.tick();
    const after = await sweepGrants(deps());
    out(
      indent(
        `The secret the connector held on day 0 has expired. Grants that went invalid: ${ticked.expired.length}. watchdog sweep: ${after.invalid} invalid grant(s).`,
      ),
    );
    out(
      indent(
        "It was created outside the watchdog, so the watchdog never removes it; it simply expired unused.",
      ),
    );
    await runWatchdogPass(deps());
    newAlerts();

    clock.set(new Date(day0 + 141 * DAY_MS));
    heading("Four months later: the watchdog's own secret is due");
    const second = await runWatchdogPass(deps());
    out(indent(describeRotation(second, sim)));
    newAlerts();
    clock.advance(2 * DAY_MS);
    await signInAll(sim, emails);
    clock.advance(DAY_MS);
    const retire = await runWatchdogPass(deps());
    out(
      indent(
        `Every user signed in again within days; RETIRE_GRACE_HOURS (24) passed. watchdog run retired: ${retire.retired.join(", ") || "nothing"}.`,
      ),
    );
    out(
      indent(
        `Secrets on the app now: ${sim.tenant
          .appByAppId(app.appId)!
          .passwordCredentials.map(
            (p) =>
              `${p.keyId.slice(0, 8)} (${rotationIdOf(p.displayName) ? "watchdog" : "foreign"}, ends ${p.endDateTime.slice(0, 10)})`,
          )
          .join(", ")}.`,
      ),
    );
    newAlerts();

    for (const chapter of options.chapters ?? []) await chapter(ctx);

    heading("GET /api/health");
    const health = await readHealth(deps());
    out(
      indent(
        JSON.stringify(
          {
            status: health.status,
            lastRuns: health.lastRuns,
            nextExpiry: health.nextExpiry,
            openIncidentCount: health.openIncidentCount,
          },
          null,
          2,
        ),
      ),
    );

    await installationsChapter(ctx);
    await evidenceChapter(ctx);

    heading("Totals");
    const by = (sink: string) => sim.sinks.received.filter((r) => r.sink === sink).length;
    out(
      indent(
        `Contoso's alert deliveries: webhook ${by("webhook")}, Slack ${by("slack")}, Teams ${by("teams")}, PagerDuty ${by("pagerduty")}. Users who had to start over from scratch: 0.`,
      ),
    );
    out(indent("Next: `npm test`; `npx watchdog --help`; the README for running against a real tenant."));
    return 0;
  } finally {
    await host?.close();
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** A port nothing listens on now, so the public URL is known before the host starts. */
async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Users completing the hosted-auth flow, a few at a time (each sends Nylas webhooks to `serve`). */
async function signInAll(sim: Simulator, emails: readonly string[]): Promise<void> {
  for (let i = 0; i < emails.length; i += 25) {
    await Promise.all(emails.slice(i, i + 25).map((email) => sim.nylas.signIn(email)));
  }
}

function describeRotation(result: WatchdogPassResult, sim: Simulator): string {
  const r = result.rotation;
  const lines = [`Decision: ${r.decision} — ${r.reason}.`];
  const o = r.outcome;
  if (o?.status === "rotated") {
    const name = sim.tenant
      .appByAppId(sim.nylasApp?.appId ?? "")
      ?.passwordCredentials.find((p) => p.keyId === o.keyId)?.displayName;
    const marker = parseMarker(name ?? null);
    lines.push(
      `1. addPassword: secret ${o.keyId} for ${o.lifetimeDays} days, display name "secret-watchdog ${marker?.installationId ? `${marker.installationId} ` : ""}${o.rotationId} …" (installation id, rotation id).`,
      `2. Proven with Entra: refused as not yet propagated (AADSTS7000215), accepted after ${Math.round(o.propagationMs / 1000)} s (simulated). No PATCH before that.`,
      `3. PATCH /v3/connectors/microsoft with the full settings (client_id, client_secret, tenant) and the scope unchanged.`,
      `4. New sign-ins now use the new secret. Superseded: ${o.superseded.join(", ")} — existing grants keep the secret they signed in with.`,
    );
  }
  lines.push(
    `Users still on a superseded secret: ${result.migration.dependents}; re-authentication requests sent: ${result.migration.reauthRequested}.`,
  );
  return lines.join("\n");
}
