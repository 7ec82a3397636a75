/**
 * rotation.safety: what the watchdog may safely do to the connector's app.
 * Which installation manages the connector, whether any key is in doubt (an
 * unconfirmed connector update), and whether Entra's per-credential sign-in
 * evidence is in effect — with each secret's last sign-in.
 */
import { FOREIGN, loadKeyRecords } from "../../rotation/records.js";
import { loadInstallation } from "../../rotation/installation.js";
import { describeOtherInstallation, judgeOwnership } from "../../rotation/ownership.js";
import { ENABLE_EVIDENCE, judgeEvidence, readSignInReport } from "../../rotation/evidence.js";
import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";

const USAGE_REPORT =
  'Microsoft Learn: "Application credential activity report" (Entra admin center → Monitoring & health → Usage & insights), https://learn.microsoft.com/en-us/entra/identity/monitoring-health/concept-usage-insights-report';

export async function checkRotationSafety(ctx: DoctorContext): Promise<CheckOutcome> {
  const app = await ctx.needApp();
  const store = await ctx.store();
  const records = (await loadKeyRecords(store, app.appId)).map((i) => i.value);
  const installation = (await loadInstallation(store, ctx.clock, { create: false })).record;
  const ownership = judgeOwnership(app, records, installation);
  const report = await readSignInReport(await ctx.graph(), app.appId);
  const evidence = judgeEvidence(report, records, undefined, ctx.clock.now());
  const present = new Set(app.passwordCredentials.map((p) => p.keyId));
  const lastSignIns = app.passwordCredentials.map((p) => ({
    keyId: p.keyId,
    lastSignIn: report.readable ? (report.lastSignIn.get(p.keyId) ?? null) : undefined,
  }));
  const details = {
    installation: installation.id,
    evidence: evidence.mode,
    secrets: lastSignIns,
  };
  const signInLine = report.readable
    ? ` Last sign-in per secret: ${lastSignIns.map((s) => `${s.keyId.slice(0, 8)} ${s.lastSignIn ?? "none reported"}`).join(", ")}.`
    : "";

  if (ownership.others.length > 0) {
    return problem(
      "fail",
      describeOtherInstallation(ownership, store.description),
      "Run the watchdog from one installation per connector: point this one at the same state (AzureWebJobsStorage, or WATCHDOG_STATE_DIR) as the one that manages the connector, or take over with `watchdog run --adopt`.",
      'secret-watchdog README, "One installation per connector"',
      details,
    );
  }

  const doubt = records.filter(
    (r) => (r.state === "sent" || r.state === "installed") && (r.keyId === FOREIGN || present.has(r.keyId)),
  );
  if (doubt.some((r) => r.state === "sent") && doubt.length > 1) {
    const keys = doubt.map((r) => (r.keyId === FOREIGN ? "the secret(s) from before the watchdog" : r.keyId));
    return problem(
      "fail",
      `A connector update could not be confirmed: the Nylas connector holds one of ${keys.join(" or ")}, and neither may be removed until it is known which.${signInLine}`,
      [
        report.readable
          ? "The watchdog settles this itself as soon as Entra reports a sign-in with the newer secret after its proof (a user signing in, or Nylas refreshing a grant): run `watchdog run` after the next sign-in."
          : `Let the watchdog settle it: ${ENABLE_EVIDENCE}`,
        `Or check by hand: the "Application credential activity" report lists each key's last sign-in; the key with sign-ins after the update is the one in the connector (${USAGE_REPORT}).`,
      ].join("\n"),
      USAGE_REPORT,
      details,
    );
  }

  if (evidence.mode === "blind") {
    return problem(
      "warn",
      `${evidence.reason}${signInLine}`,
      "Nothing to do if this tenant has no recent Microsoft sign-ins. Otherwise the report may lag or not cover these sign-ins: the watchdog keeps to the conservative rules (re-authentication requests at once, retirement only when no grant depends on the old secret in two reads).",
      USAGE_REPORT,
      details,
    );
  }
  if (evidence.mode === "unavailable") {
    return pass(
      `Conservative mode: Entra's sign-in report is not readable, so migration and retirement follow the grants' timestamps (SWITCH_MARGIN_MINUTES ${ctx.config.rotation.switchMarginMinutes}). To decide on evidence instead: ${ENABLE_EVIDENCE}`,
      details,
    );
  }
  return pass(
    `Evidence mode: Entra's per-credential sign-in report is readable and shows the secrets in use; installation ${installation.id} manages the connector.${signInLine}`,
    details,
  );
}
