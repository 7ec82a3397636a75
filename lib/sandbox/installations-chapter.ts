/**
 * A chapter on a tenant of its own (Northwind): a second installation — an
 * operator's laptop with another state directory — finds the connector
 * managed by the deployed Function App, changes nothing and exits 3; with
 * `--adopt` it takes over without removing the Function App's secret; the
 * Function App is then refused in turn, until the laptop is retired and the
 * Function App adopts the connector back.
 */
import { rmSync } from "node:fs";
import { HOUR_MS } from "../clock.js";
import type { Deps } from "../deps.js";
import { loadInstallation } from "../rotation/installation.js";
import { parseMarker } from "../rotation/marker.js";
import { runWatchdogPass } from "../watchdog-pass.js";
import { startChapterTenant, writeCount, type ChapterTenant } from "./chapter-tenant.js";
import { describeAlerts, indent } from "./describe.js";
import type { StoryContext } from "./story-context.js";

const USERS = ["megan.bowen@northwind.example", "lee.gu@northwind.example", "nestor.wilke@northwind.example"];

export async function installationsChapter(ctx: StoryContext): Promise<void> {
  const { say, heading } = ctx;
  const t = await startChapterTenant(ctx, {
    name: "Northwind Mail (Nylas)",
    seed: { connectorSecretDaysLeft: 30, grantEmails: USERS },
  });
  try {
    heading("A second installation (Northwind)");
    // The Function App's first rotation; its users sign in again with the new secret.
    const first = await runWatchdogPass(t.deps());
    const keyA = first.rotation.outcome?.status === "rotated" ? first.rotation.outcome.keyId : "?";
    const idA = await installationId(t.deps());
    ctx.clock.advance(HOUR_MS);
    for (const email of USERS) await t.sim.nylas.signIn(email);
    await runWatchdogPass(t.deps());
    t.newAlerts();
    say(
      indent(
        `Another tenant, Northwind, on a simulator of its own: ${USERS.length} Microsoft users. Its Function App is installation\n` +
          `${idA} (one state store; the id is written into the display name of every secret it creates). Today it rotated\n` +
          `the connector's secret to ${keyA} (watchdog run → exit ${first.exitCode}); the users signed in again with it.`,
      ),
    );

    ctx.clock.advance(23 * HOUR_MS);
    heading("Northwind: watchdog run from a laptop");
    const laptopDir = t.newStateDir();
    const laptop = () => t.deps({ WATCHDOG_STATE_DIR: laptopDir });
    const before = writeCount(t.sim);
    const secretsBefore = secretIds(t);
    const refused = await runWatchdogPass(laptop());
    const idB = await installationId(laptop());
    say(
      indent(
        `An operator runs \`watchdog run\` on a laptop with the Function App's settings but WATCHDOG_STATE_DIR on the laptop:\n` +
          `another state store, so another installation (${idB}), with no record of ${keyA}.\n` +
          `→ exit ${refused.exitCode} (${refused.rotation.decision}):\n` +
          indent(sentences(t.redact(refused.rotation.reason)), "  "),
      ),
    );
    say(
      indent(
        `addPassword, removePassword and Nylas writes in the simulator's request log: ${before} before, ${writeCount(t.sim)} after;\n` +
          `the app's secrets ${secretIds(t) === secretsBefore ? "unchanged" : "CHANGED"}; its plan ${refused.plan.length === 0 ? "empty" : `has ${refused.plan.length} line(s)`}.`,
      ),
    );
    say(indent(describeAlerts(t.newAlerts())));

    heading("Northwind: watchdog run --adopt from the laptop");
    const adopted = await runWatchdogPass(laptop(), { adopt: true });
    const reauth = t.newAlerts();
    say(indent(`→ exit ${adopted.exitCode} (${adopted.rotation.decision}). What it did:`));
    say(indent(adopted.plan.map((line) => `- ${line}`).join("\n"), "     "));
    if (adopted.rotation.decision === "rotated")
      say(
        indent(
          `It has no record of what the connector held, so it assumed the worst — the earliest-expiring secret it did not\n` +
            `make, the original one — and that was due. It cannot tell which secret each grant uses (no sign-in evidence here),\n` +
            `so it asks everyone who signed in before its switch: ${countReauth(reauth)} grant.reauth_requested events.`,
        ),
      );
    say(indent(`Secrets on the app: ${describeSecrets(t)}.`));
    say(
      indent(
        `${idA}'s secret ${keyA.slice(0, 8)} is still there: an installation never removes secrets it adopted.`,
      ),
    );
    say(indent(describeAlerts(withoutReauth(reauth))));

    heading("Northwind: the Function App's next pass");
    const turned = await runWatchdogPass(t.deps());
    say(
      indent(
        `→ exit ${turned.exitCode} (${turned.rotation.decision}), refused in turn:\n` +
          indent(t.redact(firstSentence(turned.rotation.reason)), "  "),
      ),
    );
    say(indent(describeAlerts(t.newAlerts())));

    heading("Northwind: one installation again");
    rmSync(laptopDir, { recursive: true, force: true });
    const back = await runWatchdogPass(t.deps(), { adopt: true });
    say(
      indent(
        `Two installations must not share a connector: the operator keeps the Function App. The laptop's state directory is\n` +
          `deleted (a laptop run with a fresh one would be refused like the first), and \`watchdog run --adopt\` with the\n` +
          `Function App's state takes the connector back → exit ${back.exitCode} (${back.rotation.decision}):`,
      ),
    );
    say(indent(back.plan.map((line) => `- ${line}`).join("\n"), "     "));
    say(indent(describeAlerts(t.newAlerts())));
    ctx.clock.advance(HOUR_MS);
    const refresh = await t.sim.nylas.tick();
    const valid = t.sim.tenant.nylas.grants.filter((g) => g.grant_status === "valid").length;
    say(
      indent(
        `Secrets on the app: ${describeSecrets(t)} — neither installation removed the other's.\n` +
          `Nylas' next hourly refresh: ${valid} valid grants, ${refresh.expired.length} gone invalid.`,
      ),
    );
  } finally {
    await t.close();
  }
}

async function installationId(deps: Deps): Promise<string> {
  return (await loadInstallation(await deps.store(), deps.clock, { create: false })).record.id;
}

function secretIds(t: ChapterTenant): string {
  return t
    .app()
    .passwordCredentials.map((p) => p.keyId)
    .sort()
    .join(",");
}

/** Each secret on the app: whose it is, and whether the connector holds it. */
function describeSecrets(t: ChapterTenant): string {
  const held = t.sim.tenant.connectorSecret()?.password?.keyId;
  return t
    .app()
    .passwordCredentials.map((p) => {
      const who = parseMarker(p.displayName)?.installationId ?? "made by hand";
      return `${p.keyId.slice(0, 8)} (${who}${p.keyId === held ? ", in the connector" : ""})`;
    })
    .join(", ");
}

/** One sentence a line. */
function sentences(text: string): string {
  return text.split(/(?<=\.) (?=[A-Z])/).join("\n");
}

function firstSentence(text: string): string {
  return text.split(/(?<=\.) (?=[A-Z])/)[0] ?? text;
}

const isReauth = (r: { body: string }) => r.body.includes('"grant.reauth_requested"');
const countReauth = (receipts: readonly { body: string }[]) => receipts.filter(isReauth).length;
const withoutReauth = <T extends { body: string }>(receipts: readonly T[]) =>
  receipts.filter((r) => !isReauth(r));
