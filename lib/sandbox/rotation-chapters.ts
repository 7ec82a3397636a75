/**
 * Contoso's secret over four months: the rotation, users re-authenticating
 * with the new secret, the migration escalating as the old one nears its
 * expiry, the old secret expiring unused, and the next rotation retiring the
 * watchdog's own superseded secret.
 */
import { DAY_MS, HOUR_MS } from "../clock.js";
import { runWatchdogPass } from "../watchdog-pass.js";
import { sweepGrants } from "../grants/grant-passes.js";
import { listAttentionGrants } from "../grants/list-attention-grants.js";
import { rotationIdOf } from "../rotation/marker.js";
import { describeAlerts, indent } from "./describe.js";
import { describeRotation } from "./describe-rotation.js";
import { explainPassExit } from "./describe-exit.js";
import { daysLeft } from "../watch/classify.js";
import type { SinkReceipt } from "../sim/index.js";
import { MICROSOFT_USERS, signInAll, type Contoso } from "./contoso.js";

export async function rotationChapter({ heading, say, sim, deps, newAlerts }: Contoso): Promise<void> {
  heading("watchdog run: rotation");
  const first = await runWatchdogPass(deps());
  say(indent(describeRotation(first, sim)));
  const reauth = newAlerts();
  const requests = reauth.filter((r) => r.body.includes('"grant.reauth_requested"'));
  say(
    indent(
      `${requests.length} grant.reauth_requested events went to the application's webhook, one per user, e.g.:`,
    ),
  );
  // Deliveries run concurrently: the example is the first by email, not the first to arrive.
  const example = requests
    .map((r) => JSON.parse(r.body) as { grant?: { email: string } })
    .sort((a, b) => (a.grant?.email ?? "").localeCompare(b.grant?.email ?? ""))[0] ?? { grant: {} };
  say(indent(JSON.stringify(example.grant ?? {}, null, 2), "     "));
  say(indent(describeAlerts(reauth.filter((r) => !r.body.includes('"grant.reauth_requested"')))));
  say(indent(pagingNote(reauth)));
}

/** The paging rule as this pass applied it: PagerDuty hears only of what is at or above PAGERDUTY_MIN_SEVERITY. */
function pagingNote(receipts: readonly SinkReceipt[]): string {
  const bodies = receipts.map((r) => ({ sink: r.sink, body: JSON.parse(r.body) as Record<string, unknown> }));
  const paged = new Set(
    bodies.filter((r) => r.sink === "pagerduty").map((r) => String(r.body.dedup_key).split(":")[0]),
  );
  const migration = bodies
    .map((r) => r.body.incident as { kind?: string; severity?: string } | undefined)
    .find((i) => i?.kind === "secret.migration");
  return (
    `PagerDuty (PAGERDUTY_MIN_SEVERITY critical) was paged for: ${[...paged].sort().join(", ") || "nothing"}.\n` +
    `The rotation and the migration incident (${migration?.severity ?? "?"}) reached the other sinks${paged.has("secret.migration") ? " and PagerDuty" : " only: a routine rotation pages nobody"}.`
  );
}

/** Adele follows her link; the application's callback must exchange the code before Nylas acts. */
async function adeleSignsIn({ say, sim, newAlerts }: Contoso, adeleLink: string): Promise<void> {
  const click = await fetch(adeleLink, { redirect: "manual" });
  const callback = new URL(click.headers.get("location") ?? "https://invalid.example/");
  const code = callback.searchParams.get("code") ?? "";
  say(
    indent(
      `Adele opens her link (GET /v3/connect/auth?…login_hint=adele…) → ${click.status} to the app's callback ${callback.origin}${callback.pathname} with a one-time code in the query; Nylas has re-authenticated nothing yet.`,
    ),
  );
  // What REAUTH_REDIRECT_URI's handler does (docs/reauth-callback.md): exchange the code.
  const exchange = await sim.exchangeCode(code, `${callback.origin}${callback.pathname}`);
  await exchange.arrayBuffer();
  await sim.nylas.settle();
  say(
    indent(
      `The callback exchanges the code (POST /v3/connect/token) → ${exchange.status}: only now does Nylas re-authenticate her grant with the NEW secret and send grant.updated.`,
    ),
  );
  say(indent(describeAlerts(newAlerts())));
}

export async function reauthChapter(c: Contoso, adeleLink: string | undefined): Promise<void> {
  const { heading, say, sim, clock, deps, emails, newAlerts } = c;
  heading("Users re-authenticate");
  clock.advance(3 * HOUR_MS);
  if (adeleLink !== undefined) await adeleSignsIn(c, adeleLink);
  const movers = emails.slice(1, 151);
  for (let i = 0; i < movers.length; i += 50) {
    clock.advance(DAY_MS);
    await signInAll(sim, movers.slice(i, i + 50));
  }
  const sweep = await sweepGrants(deps());
  say(
    indent(
      `Over the next days ${movers.length} more users sign in again. watchdog sweep: ${sweep.grants} grants, ${sweep.invalid} invalid, ${sweep.onSupersededSecrets} still on the old secret.`,
    ),
  );
  newAlerts();
}

/** The connector's secret on day 0 (made by hand): the one the first migration moves users off. */
function originalSecretEnd({ app }: Contoso): string {
  return app.passwordCredentials.find((p) => rotationIdOf(p.displayName) === undefined)?.endDateTime ?? "";
}

const dayOf = ({ clock, day0 }: Contoso) => Math.floor((clock.now().getTime() - day0) / DAY_MS);

export async function escalationChapter(c: Contoso): Promise<void> {
  const { heading, say, sim, clock, deps, emails, payroll, day0, config, newAlerts } = c;
  clock.set(new Date(day0 + 7 * DAY_MS));
  const left = daysLeft(originalSecretEnd(c), clock.now());
  heading(`${left} days before the old secret expires`);
  const escalate = await runWatchdogPass(deps());
  say(
    indent(
      `watchdog run: ${escalate.migration.dependents} users still on the old secret, which now expires within ALERT_BEFORE_DAYS (${config.alerts.alertBeforeDays})\n` +
        `→ the migration incident turns critical, and only now pages PagerDuty.`,
    ),
  );
  say(indent(describeAlerts(newAlerts())));
  const listing: string[] = [];
  for await (const g of listAttentionGrants(deps()))
    if (listing.length < 3)
      listing.push(`${g.email}  ${g.reason}  deadline ${g.deadline ?? "-"}\n    ${g.reauthUrl ?? ""}`);
  say(indent(`watchdog grants (first 3):\n${indent(listing.join("\n"))}`));

  clock.advance(DAY_MS);
  const old = sim.tenant.appByAppId(payroll.appId)!.passwordCredentials[0]!;
  sim.tenant.addSecret(payroll.id, {
    displayName: "prod 2027",
    endDateTime: new Date(clock.now().getTime() + 365 * DAY_MS),
  });
  sim.tenant.removePassword(sim.tenant.appByAppId(payroll.appId)!, old.keyId);
  const fixed = await runWatchdogPass(deps());
  say(
    indent(
      `Day ${dayOf(c)}: Payroll sync's owners (paged on day 0) create a new secret and delete the old one. watchdog run → ${await explainPassExit(fixed, deps().incidents)}`,
    ),
  );
  say(indent(describeAlerts(newAlerts())));

  clock.advance(DAY_MS);
  await signInAll(sim, emails.slice(151));
  const done = await sweepGrants(deps());
  say(
    indent(
      `Day ${dayOf(c)}: the last ${MICROSOFT_USERS - 151} users sign in again. watchdog sweep: ${done.onSupersededSecrets} left on the old secret.`,
    ),
  );
  say(indent(describeAlerts(newAlerts())));
}

export async function expiryChapter({
  heading,
  say,
  sim,
  clock,
  deps,
  day0,
  newAlerts,
}: Contoso): Promise<void> {
  clock.set(new Date(day0 + 21 * DAY_MS));
  heading("The old secret expires");
  const ticked = await sim.nylas.tick();
  const after = await sweepGrants(deps());
  say(
    indent(
      `The secret the connector held on day 0 has expired. Grants that went invalid: ${ticked.expired.length}. watchdog sweep: ${after.invalid} invalid grant(s).`,
    ),
  );
  say(
    indent(
      "It was created outside the watchdog, so the watchdog never removes it; it simply expired unused.",
    ),
  );
  await runWatchdogPass(deps());
  newAlerts();
}

export async function secondRotationChapter(c: Contoso): Promise<void> {
  const { heading, say, sim, clock, deps, emails, app, day0, newAlerts } = c;
  clock.set(new Date(day0 + 141 * DAY_MS));
  const own = app.passwordCredentials.find((p) => rotationIdOf(p.displayName) !== undefined);
  heading(`The watchdog's own secret is due: ${daysLeft(own?.endDateTime, clock.now())} days left`);
  const second = await runWatchdogPass(deps());
  say(indent(describeRotation(second, sim)));
  newAlerts();
  clock.advance(2 * DAY_MS);
  await signInAll(sim, emails);
  clock.advance(DAY_MS);
  const retire = await runWatchdogPass(deps());
  say(
    indent(
      `Every user signed in again within days; RETIRE_GRACE_HOURS (24) passed. watchdog run retired: ${retire.retired.join(", ") || "nothing"}.`,
    ),
  );
  say(
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
}
