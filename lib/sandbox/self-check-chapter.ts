/**
 * The self-check on Contoso: a redeploy whose post-provision step could not
 * grant the Graph permission leaves a watchdog that fails every pass, silently
 * unless something checks the setup as the deployed identity. The timer's
 * self-check does, on the first pass after a deployment: it raises
 * `setup.broken:app.permission` with the exact grant to make, health turns
 * degraded, and once the permission is granted and the app restarted the next
 * pass resolves it, saying what is true now.
 */
import { checkHealth } from "../health.js";
import { formatHealthText, healthExitCode } from "../health/format.js";
import { runSelfCheckIfDue } from "../health/self-check.js";
import type { SinkReceipt } from "../sim/index.js";
import { describeAlerts, indent } from "./describe.js";
import type { StoryContext } from "./story-context.js";

const OWNED_BY = "Application.ReadWrite.OwnedBy";

export interface SelfCheckChapterInput {
  /** Alert deliveries since the last call. */
  newAlerts: () => SinkReceipt[];
}

async function selfCheckNow(ctx: StoryContext, deployment: string): Promise<string> {
  // Fresh deps each time: a restarted Function App, whose new token carries the roles it has now.
  const deps = ctx.deps();
  const record = await runSelfCheckIfDue(deps, { deployment });
  const failing = record?.failing.map((f) => `setup.broken:${f.id}`) ?? [];
  const report = await checkHealth({ ...deps, startedAt: ctx.clock.now() });
  const exit = healthExitCode(report);
  return [
    record === undefined
      ? "self-check: not due"
      : `self-check (${record.reason}): ${record.checks.length} checks as the deployed identity; open: ${failing.join(", ") || "none"}`,
    "$ watchdog health",
    indent(formatHealthText(report)),
    `→ exit ${exit}: ${exit === 1 ? "degraded — the setup is broken (above); /api/health answers 503" : "nothing critical is broken as the deployed identity; a warning alerts on its own"}`,
  ].join("\n");
}

export async function selfCheckChapter(ctx: StoryContext, input: SelfCheckChapterInput): Promise<void> {
  const { heading, say, sim } = ctx;
  const identity = sim.watchdog.servicePrincipalId;

  heading("The self-check: a redeploy without the Graph permission");
  sim.tenant.revokeAppRole(identity, OWNED_BY);
  say(
    indent(
      `Contoso redeploys; the post-provision step could not grant the new identity ${OWNED_BY}\n` +
        "(no Privileged Role Administrator at hand). `watchdog doctor` on a laptop runs as the operator and passes.\n" +
        "The first timer pass after the deployment runs doctor's checks as the deployed identity itself:",
    ),
  );
  say(indent(await selfCheckNow(ctx, "contoso-redeploy")));
  say(indent(describeAlerts(input.newAlerts())));

  heading("The self-check: the permission granted, the app restarted");
  sim.tenant.grantAppRole(identity, OWNED_BY);
  say(indent(`An administrator grants ${OWNED_BY} as the incident's fix says, and restarts the app.`));
  say(indent(await selfCheckNow(ctx, "contoso-redeploy")));
  say(indent(describeAlerts(input.newAlerts())));
}
