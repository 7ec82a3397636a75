import type { PasswordCredential } from "../../clients/graph.js";
import { classify, daysLeft, isExpired } from "../../watch/classify.js";
import { errorMessage } from "../../errors.js";
import { pass, problem, type CheckOutcome, type CheckStatus } from "../check.js";
import type { ConnectorSecretRecord, DoctorContext } from "../context.js";
import { sources, type SourceKey } from "../sources.js";

interface Finding {
  status: "warn" | "fail";
  summary: string;
  fix: string;
  sources: SourceKey[];
}

const day = (iso: string | null) => (iso === null ? "never" : iso.slice(0, 10));

/** Apps that let personal accounts sign in may hold at most 2 client secrets (TooManyAppPasswords). */
const TWO_SECRET_AUDIENCES = new Set(["AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"]);

/**
 * secrets.live: the app has an unexpired client secret; the one in the
 * connector (as the rotation recorded it) still exists and is not expired or
 * about to; and rotation has room to add the next one.
 */
export async function checkSecrets(ctx: DoctorContext): Promise<CheckOutcome> {
  const app = await ctx.needApp();
  const now = ctx.clock.now();
  const thresholds = {
    alertBeforeDays: ctx.config.alerts.alertBeforeDays,
    rotateBeforeDays: ctx.config.rotation.rotateBeforeDays,
  };
  const rotationOff = ctx.config.rotation.mode === "off";
  const appName = app.displayName ?? app.appId;
  const passwords = app.passwordCredentials;
  const live = passwords.filter((p) => !isExpired(p.endDateTime, now));
  const latest = [...live].sort((a, b) => end(b) - end(a))[0];

  let record: ConnectorSecretRecord | undefined;
  let recordError: string | undefined;
  try {
    record = await ctx.rotationRecord();
  } catch (error) {
    recordError = errorMessage(error);
  }
  const recordForThisApp = record !== undefined && (record.appId === "" || sameId(record.appId, app.appId));
  const inConnector = recordForThisApp ? passwords.find((p) => sameId(p.keyId, record!.keyId)) : undefined;

  const newSecretSteps = [
    `Seed 001: in the Azure portal → App registrations → ${appName} → Certificates & secrets → New client secret; “Make a note of the value of the client secret” (it is shown only once), then “update the Azure client secret with the newly generated value” in the Nylas connector (Dashboard → Connectors → Microsoft).`,
    rotationOff
      ? "ROTATION=off: the watchdog will not do this for you."
      : "Or let the watchdog do all of it: `watchdog run --force-rotate`.",
  ].join("\n");

  const findings: Finding[] = [];
  const notes: string[] = [];

  if (passwords.length === 0) {
    findings.push({
      status: "fail",
      summary: `"${appName}" has no client secret at all: Nylas cannot sign anyone in.`,
      fix: newSecretSteps,
      sources: ["seed001"],
    });
  } else if (live.length === 0) {
    const last = [...passwords].sort((a, b) => end(b) - end(a))[0]!;
    findings.push({
      status: "fail",
      summary: `Every client secret of "${appName}" has expired (the last on ${day(last.endDateTime)}): sign-ins fail with AADSTS7000222 and every Microsoft grant goes invalid.`,
      fix: [
        "Seed 001: “When the old client secret expires, all accounts go invalid and require all users to re-authenticate their accounts.”",
        newSecretSteps,
        "Then every user re-authenticates (`watchdog grants` lists them with links).",
      ].join("\n"),
      sources: ["seed001"],
    });
  }

  if (recordError !== undefined) {
    notes.push(`the rotation record could not be read (${recordError})`);
  } else if (record === undefined) {
    notes.push("in-connector secret not recorded yet (no rotation has run)");
  } else if (!recordForThisApp) {
    findings.push({
      status: "warn",
      summary: `The rotation record is for app ${record.appId}, but the connector now uses ${app.appId}: which secret the connector holds is unknown.`,
      fix: "The connector's client_id was changed outside the watchdog. Check the secret in the connector with `watchdog doctor --secret` (reads the value from stdin); the next rotation records the new one.",
      sources: ["contract"],
    });
  } else if (inConnector === undefined) {
    findings.push({
      status: "fail",
      summary: `The secret the connector holds (keyId ${record.keyId}, installed ${day(record.installedAt || null)}) no longer exists on "${appName}": someone deleted it, so new sign-ins fail with AADSTS7000215 and grants authenticated with it can no longer refresh.`,
      fix: [
        newSecretSteps,
        "Then the users whose grants go invalid re-authenticate (`watchdog grants`).",
      ].join("\n"),
      sources: ["seed001", "seed000"],
    });
  } else {
    const status = classify(inConnector.endDateTime, now, thresholds);
    const left = daysLeft(inConnector.endDateTime, now);
    const what = `The connector's secret (keyId ${inConnector.keyId}${inConnector.displayName ? `, "${inConnector.displayName}"` : ""})`;
    if (status === "expired") {
      findings.push({
        status: "fail",
        summary: `${what} expired on ${day(inConnector.endDateTime)}: new sign-ins fail with AADSTS7000222 (“The client secret for your Azure application has expired”) and grants on it go invalid.`,
        fix: newSecretSteps,
        sources: ["seed001"],
      });
    } else if (status === "critical") {
      findings.push({
        status: "warn",
        summary: `${what} expires in ${left} day${left === 1 ? "" : "s"} (${day(inConnector.endDateTime)}), within ALERT_BEFORE_DAYS=${thresholds.alertBeforeDays}.`,
        fix: rotationOff
          ? newSecretSteps
          : `Rotation should have replaced it after ROTATE_BEFORE_DAYS=${thresholds.rotateBeforeDays}: run \`watchdog run\` and read why it did not (app.permission above names a missing permission).\n${newSecretSteps}`,
        sources: ["seed001"],
      });
    } else if (status === "rotation-due" && rotationOff) {
      findings.push({
        status: "warn",
        summary: `${what} expires in ${left} days (${day(inConnector.endDateTime)}) and ROTATION=off.`,
        fix: `Seed 001 advises “creating an additional client secret … before the old secret expires to give your users time to re-authenticate”.\n${newSecretSteps}`,
        sources: ["seed001"],
      });
    } else {
      notes.push(
        `the connector's secret ${inConnector.keyId} expires ${left === null ? "never" : `in ${left} days (${day(inConnector.endDateTime)})`}`,
      );
    }
  }

  // Without a record, at least the longest-living secret must not be about to expire.
  if (record === undefined && latest !== undefined) {
    const status = classify(latest.endDateTime, now, thresholds);
    if (status === "critical") {
      findings.push({
        status: "warn",
        summary: `The longest-living secret of "${appName}" expires in ${daysLeft(latest.endDateTime, now)} days (${day(latest.endDateTime)}): whichever the connector holds is about to expire.`,
        fix: newSecretSteps,
        sources: ["seed001"],
      });
    }
  }

  if (!rotationOff && TWO_SECRET_AUDIENCES.has(app.signInAudience ?? "") && passwords.length >= 2) {
    const expired = passwords.filter((p) => isExpired(p.endDateTime, now));
    const dueSoon =
      (inConnector ?? latest) !== undefined &&
      classify((inConnector ?? latest)!.endDateTime, now, thresholds) !== "ok";
    if (expired.length > 0 || dueSoon) {
      findings.push({
        status: "warn",
        summary: `"${appName}" already has ${passwords.length} client secrets, the maximum for apps that allow personal Microsoft accounts: rotation cannot add the next one (TooManyAppPasswords).`,
        fix:
          expired.length > 0
            ? `Remove the expired secret${expired.length === 1 ? "" : "s"} (${expired.map((p) => p.keyId).join(", ")}) in Certificates & secrets. Seed 001: “You can have two client secrets active within Azure at any time.”`
            : "Remove a secret that is neither the connector's nor one that valid grants were authenticated with (Certificates & secrets). Seed 001: “You can have two client secrets active within Azure at any time.”",
        sources: ["entraSecretLimits", "seed001"],
      });
    }
  }

  const details = {
    secrets: passwords.map((p) => describe(p, now, thresholds, inConnector)),
    recorded:
      record === undefined
        ? null
        : { appId: record.appId, keyId: record.keyId, installedAt: record.installedAt },
  };
  if (findings.length === 0) {
    return pass(
      `${live.length} unexpired client secret${live.length === 1 ? "" : "s"}${latest ? ` (longest until ${day(latest.endDateTime)})` : ""}; ${notes.join("; ")}.`,
      details,
    );
  }
  const status: CheckStatus = findings.some((f) => f.status === "fail") ? "fail" : "warn";
  return problem(
    status === "fail" ? "fail" : "warn",
    [...findings.map((f) => f.summary), ...notes.map((n) => `(${n})`)].join(" "),
    findings.map((f) => f.fix).join("\n"),
    sources(...new Set(findings.flatMap((f) => f.sources))),
    details,
  );
}

function end(p: PasswordCredential): number {
  return p.endDateTime === null ? Number.POSITIVE_INFINITY : Date.parse(p.endDateTime);
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function describe(
  p: PasswordCredential,
  now: Date,
  thresholds: { alertBeforeDays: number; rotateBeforeDays: number },
  inConnector: PasswordCredential | undefined,
) {
  return {
    keyId: p.keyId,
    displayName: p.displayName,
    endDateTime: p.endDateTime,
    daysLeft: daysLeft(p.endDateTime, now),
    status: classify(p.endDateTime, now, thresholds),
    inConnector: inConnector !== undefined && sameId(p.keyId, inConnector.keyId),
  };
}
