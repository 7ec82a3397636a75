/**
 * Health on Contoso: a timer that stopped is what no incident can report by
 * itself, so `watchdog health` and `GET /api/health` judge each timer's last
 * success against twice its schedule's interval, answer 503 when one is
 * late, and raise `watchdog.stale` (critical: it pages). In the story the
 * grant sweep runs only when a chapter calls it, so by now it is late — as a
 * stopped Function App would be.
 */
import { DAY_MS } from "../clock.js";
import { checkHealth } from "../health.js";
import { formatHealthText, healthExitCode } from "../health/format.js";
import { sweepGrants } from "../grants/grant-passes.js";
import type { SinkReceipt } from "../sim/index.js";
import { describeAlerts, indent } from "./describe.js";
import type { StoryContext } from "./story-context.js";

export interface HealthChapterInput {
  day0: number;
  host: { url: string; healthKey: string };
  /** Alert deliveries since the last call. */
  newAlerts: () => SinkReceipt[];
}

/** `GET /api/health` as an uptime monitor calls it (the function key in x-functions-key). */
async function probe(host: HealthChapterInput["host"]): Promise<string> {
  const res = await fetch(`${host.url}/api/health`, { headers: { "x-functions-key": host.healthKey } });
  const body = (await res.json()) as { status?: string };
  return `GET /api/health → ${res.status} {"status":"${body.status}", …}`;
}

async function healthNow(ctx: StoryContext): Promise<{ text: string; exit: string }> {
  const deps = ctx.deps();
  // As `watchdog health` does: a process that has just started, whose records date the deployment.
  const report = await checkHealth({ ...deps, startedAt: ctx.clock.now() });
  const code = healthExitCode(report);
  const exit =
    code === 1
      ? "exit 1: degraded — a timer is late (the reasons above); /api/health answers 503"
      : "exit 0: both timers finished a pass recently; open incidents alert on their own";
  return { text: formatHealthText(report), exit };
}

export async function healthChapter(ctx: StoryContext, input: HealthChapterInput): Promise<void> {
  const { heading, say } = ctx;
  heading("watchdog health: a timer that stopped");
  const sweep = ctx.deps().store;
  const last = (await (await sweep()).get<{ finishedAt: string }>("runs", "grantSweep"))?.value.finishedAt;
  const day = last === undefined ? "?" : Math.floor((Date.parse(last) - input.day0) / DAY_MS);
  say(
    indent(
      `The grant sweep (GRANT_SWEEP_SCHEDULE, every 30 minutes) last finished a pass on day ${day}: here it ran only when\n` +
        "the story called it, as if its timer had stopped. Nothing else would notice: a stopped timer raises no incident itself.",
    ),
  );
  const stale = await healthNow(ctx);
  say(indent(`$ watchdog health\n${indent(stale.text)}\n→ ${stale.exit}`));
  say(indent(describeAlerts(input.newAlerts())));
  say(indent(await probe(input.host)));

  heading("watchdog health: the timer runs again");
  const swept = await sweepGrants(ctx.deps());
  say(indent(`The grant sweep runs again: ${swept.grants} grants, ${swept.invalid} invalid.`));
  const fresh = await healthNow(ctx);
  say(indent(`$ watchdog health\n${indent(fresh.text)}\n→ ${fresh.exit}`));
  say(indent(describeAlerts(input.newAlerts())));
  say(indent(await probe(input.host)));
}
