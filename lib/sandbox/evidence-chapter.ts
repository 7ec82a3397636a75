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
import { startChapterTenant, type ChapterTenant } from "./chapter-tenant.js";
import { describeAlerts, indent } from "./describe.js";
import type { StoryContext } from "./story-context.js";

const USERS = 20;
const NEW_USERS = 5;
/** Gives up waiting for a decision after this long (it comes after 72 h). */
const MAX_WAIT_HOURS = 120;

/** Woodgrove while the chapter runs: its tenant, and hours passing on it. */
interface Woodgrove {
  ctx: StoryContext;
  t: ChapterTenant;
  /** Hours pass until the timer's pass satisfies `until` (undefined after MAX_WAIT_HOURS). */
  live: (until: (pass: WatchdogPassResult) => boolean) => Promise<WatchdogPassResult | undefined>;
  /** The timer's schedule starts over (a pass every 6 h from now). */
  restartSchedule: () => void;
}

export async function evidenceChapter(ctx: StoryContext): Promise<void> {
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
    const w: Woodgrove = {
      ctx,
      t,
      /** Hours pass: Nylas refreshes every valid grant hourly (sign-ins Entra records); the timer runs every 6 h. */
      live: async (until) => {
        for (let h = 0; h < MAX_WAIT_HOURS; h++) {
          ctx.clock.advance(HOUR_MS);
          hour++;
          await t.sim.nylas.tick();
          if (hour % 6 !== 0) continue;
          const pass = await runWatchdogPass(t.deps());
          if (until(pass)) return pass;
        }
        return undefined;
      },
      restartSchedule: () => {
        hour = 0;
      },
    };
    const first = await switchPart(w);
    await decisionPart(w, first);
    await retirementPart(w, first);
  } finally {
    await t.close();
  }
}

const planFor = (pass: WatchdogPassResult | undefined, keyId: string): KeyPlan | undefined =>
  pass?.migration.plans?.find((p) => p.keyId === keyId);
const hoursBetween = (a: WatchdogPassResult, b: WatchdogPassResult) =>
  Math.round((Date.parse(b.startedAt) - Date.parse(a.startedAt)) / HOUR_MS);
const keyIdOf = (pass: WatchdogPassResult) =>
  pass.rotation.outcome?.status === "rotated" ? pass.rotation.outcome.keyId : "?";

/** The first rotation: the original secret waits for evidence. */
async function switchPart({ ctx, t, live }: Woodgrove): Promise<WatchdogPassResult> {
  ctx.heading("Evidence: Nylas moved everyone (Woodgrove)");
  ctx.say(
    indent(
      `Another tenant, Woodgrove, on a simulator of its own: ${USERS} Microsoft users on the connector's secret (made by hand,\n` +
        `30 days left). Two differences from Contoso: a connector update moves every grant to the new secret (the simulator's\n` +
        `secretBinding "moved"; Contoso's grants keep the secret they signed in with), and the watchdog's identity may read\n` +
        `Entra's per-credential sign-in report (AuditLog.Read.All).`,
    ),
  );
  const first = (await live(() => true))!;
  const original = planFor(first, FOREIGN);
  ctx.say(
    indent(
      `Six hours of Nylas' hourly token refreshes (Entra records each as a sign-in with that secret), then the timer's pass:\n` +
        `watchdog run → exit ${first.exitCode}. Decision: ${first.rotation.decision} — ${first.rotation.reason}; new secret ${keyIdOf(first)}.\n` +
        `Evidence mode: ${first.migration.evidence?.mode} — ${first.migration.evidence?.reason}\n` +
        `The original secret: ${original?.verdict} — ${original?.reason}.\n` +
        `${original?.inferred} grants inferred to depend on it; re-authentication requests sent: ${first.migration.reauthRequested}.`,
    ),
  );
  ctx.say(indent(describeAlerts(t.newAlerts())));
  return first;
}

/** Entra's sign-in report decides the original secret: Nylas moved everyone. */
async function decisionPart({ ctx, t, live }: Woodgrove, first: WatchdogPassResult): Promise<void> {
  const decided = await live((p) => (planFor(p, FOREIGN)?.verdict ?? "waiting") !== "waiting");
  ctx.heading("Woodgrove: Entra's report decides");
  const verdict = planFor(decided, FOREIGN);
  const resolved = t.newAlerts().filter((r) => /incident\.resolved|Resolved:/.test(r.body));
  ctx.say(
    indent(
      `Passes every 6 h; Nylas refreshes every grant hourly, now with the new secret. ${decided ? hoursBetween(first, decided) : "?"} h after the switch\n` +
        `(REAUTH_DEFER_HOURS 72), watchdog run → exit ${decided?.exitCode ?? "?"}:\n` +
        `The original secret: ${verdict?.verdict ?? "undecided"} — ${verdict?.reason ?? `no decision within ${MAX_WAIT_HOURS} h`}.`,
    ),
  );
  ctx.say(indent((decided?.plan ?? []).map((line) => `- ${line}`).join("\n"), "     "));
  // The resolve's note (what is true now) heads its alerts.
  ctx.say(indent(describeAlerts(resolved)));
  ctx.say(
    indent(
      `grant.reauth_requested events sent: ${reauthCount(t.sim.sinks.received)}. The original secret was made by hand, so the watchdog never\n` +
        `removes it: it stops tracking it, and the secret expires unused.`,
    ),
  );
}

/** Four months: new users sign up (with the watchdog's secret), then it comes within ROTATE_BEFORE_DAYS. */
async function retirementPart(w: Woodgrove, first: WatchdogPassResult): Promise<void> {
  const { ctx, t, live } = w;
  const w1 = keyIdOf(first);
  const start = Date.parse(first.startedAt);
  ctx.clock.set(new Date(start + 60 * DAY_MS));
  for (let i = 1; i <= NEW_USERS; i++) await t.sim.nylas.signIn(`new${i}@woodgrove.example`);
  ctx.clock.set(new Date(start + 121 * DAY_MS - 6 * HOUR_MS));
  w.restartSchedule();
  const second = (await live(() => true))!;
  ctx.heading(
    `Woodgrove, ${Math.round((Date.parse(second.startedAt) - start) / DAY_MS)} days later: the watchdog's secret is due`,
  );
  const w1Waiting = planFor(second, w1);
  ctx.say(
    indent(
      `Meanwhile ${NEW_USERS} new users signed up, with the watchdog's secret ${w1.slice(0, 8)}. watchdog run → exit ${second.exitCode} (${second.rotation.decision}):\n` +
        `Decision: ${second.rotation.decision} — ${second.rotation.reason}.\n` +
        `${w1.slice(0, 8)}: ${w1Waiting?.verdict} (${w1Waiting?.inferred} grants inferred to depend on it); re-authentication requests sent: ${second.migration.reauthRequested}.`,
    ),
  );
  t.newAlerts();
  const retired = await live((p) => p.retired.includes(w1));
  const w1Plan = planFor(retired, w1);
  ctx.say(
    indent(
      `${retired ? hoursBetween(second, retired) : "?"} h after the switch (RETIRE_QUIET_HOURS 72), watchdog run → exit ${retired?.exitCode ?? "?"}:\n` +
        `${w1.slice(0, 8)}: ${w1Plan?.verdict ?? "undecided"} — ${w1Plan?.reason ?? `no decision within ${MAX_WAIT_HOURS} h`}.\n` +
        `watchdog run retired: ${retired?.retired.join(", ") || "nothing"}.`,
    ),
  );
  ctx.say(indent((retired?.plan ?? []).map((line) => `- ${line}`).join("\n"), "     "));
  ctx.say(indent(describeAlerts(t.newAlerts().filter((r) => /incident\.resolved|Resolved:/.test(r.body)))));
  await afterRetirement(w);
}

/** What is left: the secrets on the app, and the grants at Nylas' next refresh. */
async function afterRetirement({ ctx, t }: Woodgrove): Promise<void> {
  ctx.clock.advance(HOUR_MS);
  const refresh = await t.sim.nylas.tick();
  const valid = t.sim.tenant.nylas.grants.filter((g) => g.grant_status === "valid").length;
  ctx.say(
    indent(
      `Secrets on the app: ${t
        .app()
        .passwordCredentials.map(
          (p) =>
            `${p.keyId.slice(0, 8)} (${parseMarker(p.displayName) ? "watchdog" : "made by hand"}, ${Date.parse(p.endDateTime) <= ctx.clock.now().getTime() ? "expired" : "ends"} ${p.endDateTime.slice(0, 10)})`,
        )
        .join(", ")}.\n` +
        `Nylas' next hourly refresh: ${valid} valid grants, ${refresh.expired.length} gone invalid.\n` +
        `grant.reauth_requested events on Woodgrove, both rotations: ${reauthCount(t.sim.sinks.received)}.`,
    ),
  );
}

function reauthCount(receipts: readonly { body: string }[]): number {
  return receipts.filter((r) => r.body.includes('"grant.reauth_requested"')).length;
}
