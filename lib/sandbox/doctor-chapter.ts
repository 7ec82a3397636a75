/**
 * The sandbox's last chapter: `watchdog doctor` on the healthy tenant, then on
 * one broken the way the seeds' tenants were — a new scope without admin
 * consent (seed 000: 45001), the secret ID pasted where its value belongs
 * (seed 000: AADSTS7000215), a failing webhook — and `--explain`.
 */
import type { StoryContext } from "./story-context.js";
import { runDoctor } from "../doctor/run-doctor.js";
import { formatCheck, formatDoctorText } from "../doctor/format-doctor.js";
import { checkCandidateSecret } from "../doctor/secret-check.js";
import { explainError, formatExplanations } from "../doctor/explain.js";

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => (l === "" ? l : `   ${l}`))
    .join("\n");
}

/** Doctor's exit code and what set it. */
function doctorExit(report: Awaited<ReturnType<typeof runDoctor>>): string {
  if (report.exitCode === 0) return "exit 0: every check passed";
  const names = report.problems.map((p) => p.code.replace(/^check\./, "")).join(", ");
  return `exit ${report.exitCode}: ${report.problems.length} problem(s) — ${names}`;
}

export async function doctorChapter(ctx: StoryContext): Promise<void> {
  const { sim, say, heading } = ctx;
  const regions = { us: sim.urls.nylasApiUri, eu: sim.urls.nylasEuApiUri };

  heading("watchdog doctor: a healthy tenant");
  const healthy = await runDoctor(ctx.deps(), { nylasRegions: regions });
  say(indent(formatDoctorText(healthy)));
  say(indent(`→ ${doctorExit(healthy)}`));

  heading("watchdog doctor: the tenants of the support threads");
  const connector = sim.tenant.nylas.connector!;
  connector.scope.push("OnlineMeetings.ReadWrite");
  const webhook = sim.tenant.nylas.webhooks[0];
  if (webhook) webhook.status = "failing";
  say(
    indent(
      "Someone adds the scope OnlineMeetings.ReadWrite to the connector (no admin consent), and the webhook endpoint\nhas been failing for a while.",
    ),
  );
  const broken = await runDoctor(ctx.deps(), { nylasRegions: regions });
  const problems = broken.checks.filter((c) => c.status === "warn" || c.status === "fail");
  say(indent(problems.map(formatCheck).join("\n")));
  const c = broken.counts;
  say(
    indent(
      `${broken.checks.length} checks: ${c.pass} pass · ${c.warn} warn · ${c.fail} fail · ${c.skip} skip (passing checks not shown)`,
    ),
  );
  say(indent(`→ ${doctorExit(broken)}`));

  heading("watchdog doctor --secret");
  const app = sim.tenant.appByAppId(connector.settings.client_id ?? "")!;
  const secretId = app.passwordCredentials.at(-1)!.keyId;
  say(
    indent("A support engineer pastes what they believe is the client secret (read from stdin, never argv):"),
  );
  const verdict = await checkCandidateSecret(ctx.deps(), secretId, { nylasRegions: regions });
  say(
    indent(
      `${verdict.accepted ? "ACCEPTED" : "NOT ACCEPTED"}: ${verdict.summary}${verdict.fix ? `\nFix: ${verdict.fix}` : ""}`,
    ),
  );

  heading('watchdog doctor --explain "…"');
  const pasted = "error_code=45001&error_description=Provider refused to return refresh_token using code";
  say(indent(`$ watchdog doctor --explain "${pasted}"`));
  say(indent(formatExplanations(explainError(pasted))));
}
