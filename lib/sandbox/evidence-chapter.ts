/**
 * A chapter on a tenant of its own (Woodgrove) where a connector update moves
 * every grant to the new secret (simulator: secretBinding "moved"; Contoso's
 * grants keep theirs) and the watchdog may read Entra's per-credential
 * sign-in report (AuditLog.Read.All). After a rotation it asks nobody for
 * REAUTH_DEFER_HOURS; the old secret stays quiet, so Nylas moved everyone and
 * nobody is asked at all. Four months later its own superseded secret is
 * retired after RETIRE_QUIET_HOURS of quiet.
 */
import { DAY_MS, HOUR_MS } from "../clock.js";
import { FOREIGN } from "../rotation/records.js";
import { parseMarker } from "../rotation/marker.js";
import type { KeyPlan } from "../rotation/migration-plan.js";
import { runWatchdogPass, type WatchdogPassResult } from "../watchdog-pass.js";
import { startChapterTenant } from "./chapter-tenant.js";
import { describeAlerts, indent } from "./describe.js";
import type { StoryContext } from "./story-context.js";

const USERS = 20;
const NEW_USERS = 5;
/** Gives up waiting for a decision after this long (it comes after 72 h). */
const MAX_WAIT_HOURS = 120;

export async function evidenceChapter(ctx: StoryContext): Promise<void> {
  const { clock, say, heading } = ctx;
  const emails = Array.from(
    { length: USERS },
    (_, i) => `user${String(i + 1).padStart(2, "0")}@woodgrove.example`,
  );
  const t = await startChapterTenant(ctx, {
    name: "Woodgrove Mail (Nylas)",
    seed: { connectorSecretDaysLeft: 30, grantEmails: emails },
  });
  try {
    t.sim.tenant.nylas.secretBinding = "moved";
    t.sim.tenant.grantAppRole(t.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    let hour = 0;
    /** Hours pass: Nylas refreshes every valid grant hourly (sign-ins Entra records); the timer runs every 6 h. */
    const live = async (
      until: (pass: WatchdogPassResult) => boolean,
    ): Promise<WatchdogPassResult | undefined> => {
      for (let h = 0; h < MAX_WAIT_HOURS; h++) {
        clock.advance(HOUR_MS);
        hour++;
        await t.sim.nylas.tick();
        if (hour % 6 !== 0) continue;
        const pass = await runWatchdogPass(t.deps());
        if (until(pass)) return pass;
      }
      return undefined;
    };
    const planFor = (pass: WatchdogPassResult | undefined, keyId: string): KeyPlan | undefined =>
      pass?.migration.plans?.find((p) => p.keyId === keyId);
    const hoursBetween = (a: WatchdogPassResult, b: WatchdogPassResult) =>
      Math.round((Date.parse(b.startedAt) - Date.parse(a.startedAt)) / HOUR_MS);

    heading("Evidence: Nylas moved everyone (Woodgrove)");
    say(
      indent(
        `Another tenant, Woodgrove, on a simulator of its own: ${USERS} Microsoft users on the connector's secret (made by hand,\n` +
          `30 days left). Two differences from Contoso: a connector update moves every grant to the new secret (the simulator's\n` +
          `secretBinding "moved"; Contoso's grants keep the secret they signed in with), and the watchdog's identity may read\n` +
          `Entra's per-credential sign-in report (AuditLog.Read.All).`,
      ),
    );
    const first = (await live(() => true))!;
    const w1 = first.rotation.outcome?.status === "rotated" ? first.rotation.outcome.keyId : "?";
    const original = planFor(first, FOREIGN);
    say(
      indent(
        `Six hours of Nylas' hourly token refreshes (Entra records each as a sign-in with that secret), then the timer's pass:\n` +
          `watchdog run → exit ${first.exitCode}. Decision: ${first.rotation.decision} — ${first.rotation.reason}; new secret ${w1}.\n` +
          `Evidence mode: ${first.migration.evidence?.mode} — ${first.migration.evidence?.reason}\n` +
          `The original secret: ${original?.verdict} — ${original?.reason}.\n` +
          `${original?.inferred} grants inferred to depend on it; re-authentication requests sent: ${first.migration.reauthRequested}.`,
      ),
    );
    say(indent(describeAlerts(t.newAlerts())));

    const decided = await live((p) => (planFor(p, FOREIGN)?.verdict ?? "waiting") !== "waiting");
    heading("Woodgrove: Entra's report decides");
    const verdict = planFor(decided, FOREIGN);
    const resolved = t.newAlerts().filter((r) => /incident\.resolved|Resolved:/.test(r.body));
    say(
      indent(
        `Passes every 6 h; Nylas refreshes every grant hourly, now with the new secret. ${decided ? hoursBetween(first, decided) : "?"} h after the switch\n` +
          `(REAUTH_DEFER_HOURS 72), watchdog run → exit ${decided?.exitCode ?? "?"}:\n` +
          `The original secret: ${verdict?.verdict ?? "undecided"} — ${verdict?.reason ?? `no decision within ${MAX_WAIT_HOURS} h`}.`,
      ),
    );
    say(indent((decided?.plan ?? []).map((line) => `- ${line}`).join("\n"), "     "));
    say(indent(describeAlerts(resolved)));
    const note = resolveNote(resolved);
    if (note !== undefined) say(indent(`Resolution note: "${note}"`));
    say(
      indent(
        `grant.reauth_requested events sent: ${reauthCount(t.sim.sinks.received)}. The original secret was made by hand, so the watchdog never\n` +
          `removes it: it stops tracking it, and the secret expires unused.`,
      ),
    );

    // Four months: new users sign up (with the watchdog's secret), then it comes within ROTATE_BEFORE_DAYS.
    const start = Date.parse(first.startedAt);
    clock.set(new Date(start + 60 * DAY_MS));
    for (let i = 1; i <= NEW_USERS; i++) await t.sim.nylas.signIn(`new${i}@woodgrove.example`);
    clock.set(new Date(start + 121 * DAY_MS - 6 * HOUR_MS));
    hour = 0;
    const second = (await live(() => true))!;
    heading("Woodgrove, four months later: the watchdog's secret is due");
    const w1Waiting = planFor(second, w1);
    say(
      indent(
        `Meanwhile ${NEW_USERS} new users signed up, with the watchdog's secret ${w1.slice(0, 8)}. watchdog run → exit ${second.exitCode}.\n` +
          `Decision: ${second.rotation.decision} — ${second.rotation.reason}.\n` +
          `${w1.slice(0, 8)}: ${w1Waiting?.verdict} (${w1Waiting?.inferred} grants inferred to depend on it); re-authentication requests sent: ${second.migration.reauthRequested}.`,
      ),
    );
    t.newAlerts();
    const retired = await live((p) => p.retired.includes(w1));
    const w1Plan = planFor(retired, w1);
    say(
      indent(
        `${retired ? hoursBetween(second, retired) : "?"} h after the switch (RETIRE_QUIET_HOURS 72), watchdog run → exit ${retired?.exitCode ?? "?"}:\n` +
          `${w1.slice(0, 8)}: ${w1Plan?.verdict ?? "undecided"} — ${w1Plan?.reason ?? `no decision within ${MAX_WAIT_HOURS} h`}.\n` +
          `watchdog run retired: ${retired?.retired.join(", ") || "nothing"}.`,
      ),
    );
    say(indent((retired?.plan ?? []).map((line) => `- ${line}`).join("\n"), "     "));
    say(indent(describeAlerts(t.newAlerts().filter((r) => /incident\.resolved|Resolved:/.test(r.body)))));
    clock.advance(HOUR_MS);
    const refresh = await t.sim.nylas.tick();
    const valid = t.sim.tenant.nylas.grants.filter((g) => g.grant_status === "valid").length;
    say(
      indent(
        `Secrets on the app: ${t
          .app()
          .passwordCredentials.map(
            (p) =>
              `${p.keyId.slice(0, 8)} (${parseMarker(p.displayName) ? "watchdog" : "made by hand"}, ${Date.parse(p.endDateTime) <= clock.now().getTime() ? "expired" : "ends"} ${p.endDateTime.slice(0, 10)})`,
          )
          .join(", ")}.\n` +
          `Nylas' next hourly refresh: ${valid} valid grants, ${refresh.expired.length} gone invalid.\n` +
          `grant.reauth_requested events on Woodgrove, both rotations: ${reauthCount(t.sim.sinks.received)}.`,
      ),
    );
  } finally {
    await t.close();
  }
}

function reauthCount(receipts: readonly { body: string }[]): number {
  return receipts.filter((r) => r.body.includes('"grant.reauth_requested"')).length;
}

/** The generic webhook's resolve_note of the first resolved incident among the receipts. */
function resolveNote(receipts: readonly { sink: string; body: string }[]): string | undefined {
  for (const r of receipts) {
    if (r.sink !== "webhook") continue;
    const body = JSON.parse(r.body) as { event?: string; incident?: { resolve_note?: string | null } };
    if (body.event === "incident.resolved" && body.incident?.resolve_note) return body.incident.resolve_note;
  }
  return undefined;
}
