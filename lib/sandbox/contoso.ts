/**
 * Contoso, the story's own tenant: who is in it (the connector's app, two
 * watched apps, Microsoft and Google users, a Nylas webhook), the Function
 * App's settings pointing at the simulator, and what the story's chapters on
 * it share.
 */
import { DAY_MS } from "../clock.js";
import type { Config } from "../config.js";
import type { SimApp, Simulator, SimWebhook, SinkReceipt } from "../sim/index.js";
import type { StoryContext } from "./story-context.js";

export const MICROSOFT_USERS = 200;
export const GOOGLE_USERS = 40;

/** What Contoso's chapters share besides the story's context. */
export interface Contoso extends StoryContext {
  day0: number;
  config: Config;
  /** The app registration behind the Nylas connector. */
  app: SimApp;
  payroll: SimApp;
  webhook: SimWebhook;
  /** The Microsoft users, Adele and Alex first. */
  emails: string[];
  /** Where `watchdog serve` listens. */
  hostUrl: string;
  /** Alert deliveries since the last call. */
  newAlerts: () => SinkReceipt[];
}

export function contosoEmails(): string[] {
  const emails = Array.from(
    { length: MICROSOFT_USERS },
    (_, i) => `user${String(i + 1).padStart(3, "0")}@contoso.com`,
  );
  emails[0] = "adele.vance@contoso.com";
  emails[1] = "alex.wilber@contoso.com";
  return emails;
}

/** The simulator's tenant as the story begins. */
export function seedContoso(sim: Simulator, day0: number) {
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
  return { app, payroll, crm, webhook };
}

/** The Function App's settings: Contoso's simulator, every alert sink, `watchdog serve` on `port`. */
export function contosoEnv(
  sim: Simulator,
  seeded: ReturnType<typeof seedContoso>,
  stateDir: string,
  port: number,
): Record<string, string> {
  const sinks = sim.urls.sinks;
  const env = sim.env({
    WATCHDOG_STATE_DIR: stateDir,
    WATCH_APP_IDS: `${seeded.payroll.appId},${seeded.crm.appId}`,
    NYLAS_WEBHOOK_SECRET: seeded.webhook.webhook_secret,
    NYLAS_CLIENT_ID: sim.tenant.nylas.applicationId,
    REAUTH_REDIRECT_URI: sim.tenant.nylas.callbackUris[0] ?? "https://app.contoso.com/nylas/callback",
    ALERT_WEBHOOK_URL: `${sinks}/webhook/contoso`,
    ALERT_WEBHOOK_SECRET: "sandbox-alert-signing-secret",
    SLACK_WEBHOOK_URL: `${sinks}/slack/T0SANDBOX/B0SANDBOX/sandboxslacktoken`,
    TEAMS_WEBHOOK_URL: `${sinks}/teams/workflows/sandboxteamstoken`,
    PAGERDUTY_ROUTING_KEY: "abcdef0123456789abcdef0123456789",
    PAGERDUTY_EVENTS_URL: `${sinks}/pagerduty/v2/enqueue`,
  });
  env.WEBHOOK_PUBLIC_URL = `http://127.0.0.1:${port}/api/nylas/webhook`;
  return env;
}

/** A port nothing listens on now, so the public URL is known before the host starts. */
export async function freePort(): Promise<number> {
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
export async function signInAll(sim: Simulator, emails: readonly string[]): Promise<void> {
  for (let i = 0; i < emails.length; i += 25) {
    await Promise.all(emails.slice(i, i + 25).map((email) => sim.nylas.signIn(email)));
  }
}
