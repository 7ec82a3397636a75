/**
 * Day 0 on Contoso: the tenant, what `watchdog scan` sees, `watchdog serve`
 * receiving Nylas' webhooks, and a user's grant that breaks and is alerted.
 */
import { scanCredentials, scanExitCode, type ScanSummary } from "../watch/scan.js";
import { formatScanTable } from "../watch/format-scan.js";
import { describeAlerts, indent } from "./describe.js";
import { GOOGLE_USERS, MICROSOFT_USERS, type Contoso } from "./contoso.js";

export function tenantChapter({ heading, say, app }: Contoso): void {
  heading("The tenant");
  say(
    indent(
      `Contoso signs users in to its product through Nylas. The Nylas Microsoft connector uses the Azure app\n` +
        `registration "${app.displayName}" (${app.appId}). ${MICROSOFT_USERS} Microsoft users and ${GOOGLE_USERS} Google users have grants.\n` +
        `The connector's client secret expires in 20 days. When it does, every Microsoft grant goes invalid and\n` +
        `every one of those ${MICROSOFT_USERS} users must sign in again (seed 001) — unless something acts first.`,
    ),
  );
}

export async function scanChapter({ heading, say, deps, config }: Contoso): Promise<void> {
  heading("watchdog scan");
  const summary = await scanCredentials(deps(), {
    watchAppIds: config.watchAppIds,
    thresholds: {
      alertBeforeDays: config.alerts.alertBeforeDays,
      rotateBeforeDays: config.rotation.rotateBeforeDays,
    },
  });
  say(
    indent(
      formatScanTable(summary, {
        alertBeforeDays: config.alerts.alertBeforeDays,
        rotateBeforeDays: config.rotation.rotateBeforeDays,
      }),
    ),
  );
  say(indent(`→ ${scanExit(summary, config.alerts.alertBeforeDays)}`));
}

/** The scan's exit code and the credentials that set it (the table above holds the rest). */
function scanExit(summary: ScanSummary, alertBeforeDays: number): string {
  const code = scanExitCode(summary);
  const urgent = summary.soonest.filter((r) => r.status === "expired" || r.status === "critical");
  const names = urgent.map((r) => `${r.appDisplayName ?? r.appId}'s ${r.keyId.slice(0, 8)}`).join(", ");
  if (code === 0) return "exit 0: nothing is expired or within ALERT_BEFORE_DAYS";
  return `exit ${code}: ${names || "a credential could not be checked"} expires within ALERT_BEFORE_DAYS (${alertBeforeDays}); a secret only due for rotation does not set it.`;
}

export function serveChapter({ heading, say, hostUrl, webhook }: Contoso): void {
  heading("watchdog serve: listening for Nylas webhooks");
  say(indent(`The Function App's HTTP routes on ${hostUrl}: POST /api/nylas/webhook, GET /api/health.`));
  say(
    indent(
      `Nylas webhook ${webhook.id} (grant.created/updated/deleted/expired) points at it, signed with its webhook_secret.`,
    ),
  );
}

/** Adele's grant breaks: alerted once, however often Nylas delivers. Returns her re-authentication link. */
export async function grantBreaksChapter(c: Contoso): Promise<string | undefined> {
  const { heading, say, sim, webhook, newAlerts } = c;
  heading("A user's grant breaks");
  const adele = sim.tenant.nylas.grantByEmail("adele.vance@contoso.com")!;
  const started = performance.now();
  const [delivery] = await sim.nylas.expireGrant(adele.id);
  say(
    indent(
      `adele.vance@contoso.com changed her password; Nylas marks her grant invalid and POSTs a signed grant.expired.\n` +
        `→ ${delivery?.status ?? "?"} from /api/nylas/webhook in ${Math.round(performance.now() - started)} ms (Nylas allows 10 s). Incident grant.invalid:${adele.id}, critical.`,
    ),
  );
  const adeleAlerts = newAlerts();
  say(indent(describeAlerts(adeleAlerts)));
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
  say(
    indent(
      `Nylas delivers the same notification again (at-least-once): → ${dup.status} ${await dup.text()}; alerts sent: ${newAlerts().length}.`,
    ),
  );
  return adeleLink;
}
