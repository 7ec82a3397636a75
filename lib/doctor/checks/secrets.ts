import type { GraphApplication, PasswordCredential } from "../../clients/graph.js";
import { classify, daysLeft, isExpired, thresholdsOf, type Thresholds } from "../../watch/classify.js";
import { errorMessage } from "../../errors.js";
import { pass, problem, type CheckOutcome, type CheckStatus } from "../check.js";
import type { ConnectorSecretRecord, DoctorContext } from "../context.js";
import { cite, sources, type SourceKey } from "../sources.js";

interface Finding {
  status: "warn" | "fail";
  summary: string;
  fix: string;
  sources: SourceKey[];
}

const day = (iso: string | null) => (iso === null ? "never" : iso.slice(0, 10));

/** Apps that let personal accounts sign in may hold at most 2 client secrets (TooManyAppPasswords). */
const TWO_SECRET_AUDIENCES = new Set(["AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"]);

/** What every part of secrets.live reads: the app's secrets and the rotation's record of the connector's one. */
interface SecretsView {
  app: GraphApplication;
  now: Date;
  thresholds: Thresholds;
  rotationOff: boolean;
  appName: string;
  passwords: PasswordCredential[];
  live: PasswordCredential[];
  /** The unexpired secret that lives longest. */
  latest: PasswordCredential | undefined;
  record: ConnectorSecretRecord | undefined;
  recordError: string | undefined;
  recordForThisApp: boolean;
  /** The app's secret the record says the connector holds, if it still exists. */
  inConnector: PasswordCredential | undefined;
  newSecretSteps: string;
}

/** A finding for the check, or a note that only adds to its summary. */
type Verdict = { finding: Finding } | { note: string };

function noLiveSecret(v: SecretsView): Finding | undefined {
  if (v.passwords.length === 0)
    return {
      status: "fail",
      summary: `"${v.appName}" has no client secret at all: Nylas cannot sign anyone in.`,
      fix: v.newSecretSteps,
      sources: ["nylasRenewSecret"],
    };
  if (v.live.length > 0) return undefined;
  const last = [...v.passwords].sort((a, b) => end(b) - end(a))[0]!;
  return {
    status: "fail",
    summary: `Every client secret of "${v.appName}" has expired (the last on ${day(last.endDateTime)}): sign-ins fail with AADSTS7000222 and every Microsoft grant goes invalid.`,
    fix: [
      `${cite.nylasRenewSecret}: “When the old client secret expires, all accounts go invalid and require all users to re-authenticate their accounts.”`,
      v.newSecretSteps,
      "Then every user re-authenticates (`watchdog grants` lists them with links).",
    ].join("\n"),
    sources: ["nylasRenewSecret"],
  };
}

/** How long the secret the connector holds still has. */
function inConnectorVerdict(v: SecretsView, key: PasswordCredential): Verdict {
  const { now, thresholds } = v;
  const status = classify(key.endDateTime, now, thresholds);
  const left = daysLeft(key.endDateTime, now);
  const what = `The connector's secret (keyId ${key.keyId}${key.displayName ? `, "${key.displayName}"` : ""})`;
  if (status === "expired")
    return {
      finding: {
        status: "fail",
        summary: `${what} expired on ${day(key.endDateTime)}: new sign-ins fail with AADSTS7000222 (“The client secret for your Azure application has expired”) and grants on it go invalid.`,
        fix: v.newSecretSteps,
        sources: ["nylasRenewSecret"],
      },
    };
  if (status === "critical")
    return {
      finding: {
        status: "warn",
        summary: `${what} expires in ${left} day${left === 1 ? "" : "s"} (${day(key.endDateTime)}), within ALERT_BEFORE_DAYS=${thresholds.alertBeforeDays}.`,
        fix: v.rotationOff
          ? v.newSecretSteps
          : `Rotation should have replaced it after ROTATE_BEFORE_DAYS=${thresholds.rotateBeforeDays}: run \`watchdog run\` and read why it did not (app.permission above names a missing permission).\n${v.newSecretSteps}`,
        sources: ["nylasRenewSecret"],
      },
    };
  if (status === "rotation-due" && v.rotationOff)
    return {
      finding: {
        status: "warn",
        summary: `${what} expires in ${left} days (${day(key.endDateTime)}) and ROTATION=off.`,
        fix: `${cite.nylasRenewSecret} advises “creating an additional client secret … before the old secret expires to give your users time to re-authenticate”.\n${v.newSecretSteps}`,
        sources: ["nylasRenewSecret"],
      },
    };
  return {
    note: `the connector's secret ${key.keyId} expires ${left === null ? "never" : `in ${left} days (${day(key.endDateTime)})`}`,
  };
}

/** What the rotation's record says about the secret in the connector. */
function recordVerdict(v: SecretsView): Verdict {
  const { record } = v;
  if (v.recordError !== undefined)
    return { note: `the rotation record could not be read (${v.recordError})` };
  if (record === undefined) return { note: "in-connector secret not recorded yet (no rotation has run)" };
  if (!v.recordForThisApp)
    return {
      finding: {
        status: "warn",
        summary: `The rotation record is for app ${record.appId}, but the connector now uses ${v.app.appId}: which secret the connector holds is unknown.`,
        fix: "The connector's client_id was changed outside the watchdog. Check the secret in the connector with `watchdog doctor --secret` (reads the value from stdin); the next rotation records the new one.",
        sources: ["contract"],
      },
    };
  if (v.inConnector === undefined)
    return {
      finding: {
        status: "fail",
        summary: `The secret the connector holds (keyId ${record.keyId}, installed ${day(record.installedAt || null)}) no longer exists on "${v.appName}": someone deleted it, so new sign-ins fail with AADSTS7000215 and grants authenticated with it can no longer refresh.`,
        fix: [
          v.newSecretSteps,
          "Then the users whose grants go invalid re-authenticate (`watchdog grants`).",
        ].join("\n"),
        sources: ["nylasRenewSecret", "nylasForum45001"],
      },
    };
  return inConnectorVerdict(v, v.inConnector);
}

/** Without a record, at least the longest-living secret must not be about to expire. */
function longestLivingFinding(v: SecretsView): Finding | undefined {
  const { latest, now } = v;
  if (v.record !== undefined || latest === undefined) return undefined;
  if (classify(latest.endDateTime, now, v.thresholds) !== "critical") return undefined;
  return {
    status: "warn",
    summary: `The longest-living secret of "${v.appName}" expires in ${daysLeft(latest.endDateTime, now)} days (${day(latest.endDateTime)}): whichever the connector holds is about to expire.`,
    fix: v.newSecretSteps,
    sources: ["nylasRenewSecret"],
  };
}

/** Rotation adds a secret before it removes one: an app at the two-secret limit blocks it. */
function secretLimitFinding(v: SecretsView): Finding | undefined {
  const { passwords, now } = v;
  if (v.rotationOff || !TWO_SECRET_AUDIENCES.has(v.app.signInAudience ?? "") || passwords.length < 2)
    return undefined;
  const expired = passwords.filter((p) => isExpired(p.endDateTime, now));
  const current = v.inConnector ?? v.latest;
  const dueSoon = current !== undefined && classify(current.endDateTime, now, v.thresholds) !== "ok";
  if (expired.length === 0 && !dueSoon) return undefined;
  const twoSecrets = `${cite.nylasRenewSecret}: “You can have two client secrets active within Azure at any time.”`;
  return {
    status: "warn",
    summary: `"${v.appName}" already has ${passwords.length} client secrets, the maximum for apps that allow personal Microsoft accounts: rotation cannot add the next one (TooManyAppPasswords).`,
    fix:
      expired.length > 0
        ? `Remove the expired secret${expired.length === 1 ? "" : "s"} (${expired.map((p) => p.keyId).join(", ")}) in Certificates & secrets. ${twoSecrets}`
        : `Remove a secret that is neither the connector's nor one that valid grants were authenticated with (Certificates & secrets). ${twoSecrets}`,
    sources: ["entraSecretLimits", "nylasRenewSecret"],
  };
}

async function readSecretsView(ctx: DoctorContext, app: GraphApplication): Promise<SecretsView> {
  const now = ctx.clock.now();
  const rotationOff = ctx.config.rotation.mode === "off";
  const appName = app.displayName ?? app.appId;
  const passwords = app.passwordCredentials;
  const live = passwords.filter((p) => !isExpired(p.endDateTime, now));
  let record: ConnectorSecretRecord | undefined;
  let recordError: string | undefined;
  try {
    record = await ctx.rotationRecord();
  } catch (error) {
    recordError = errorMessage(error);
  }
  const recordForThisApp = record !== undefined && (record.appId === "" || sameId(record.appId, app.appId));
  const newSecretSteps = [
    `${cite.nylasRenewSecret}: in the Azure portal → App registrations → ${appName} → Certificates & secrets → New client secret; “Make a note of the value of the client secret” (it is shown only once), then “update the Azure client secret with the newly generated value” in the Nylas connector (Dashboard → Connectors → Microsoft).`,
    rotationOff
      ? "ROTATION=off: the watchdog will not do this for you."
      : "Or let the watchdog do all of it: `watchdog run --force-rotate`.",
  ].join("\n");
  return {
    app,
    now,
    thresholds: thresholdsOf(ctx.config),
    rotationOff,
    appName,
    passwords,
    live,
    latest: [...live].sort((a, b) => end(b) - end(a))[0],
    record,
    recordError,
    recordForThisApp,
    inConnector: recordForThisApp ? passwords.find((p) => sameId(p.keyId, record!.keyId)) : undefined,
    newSecretSteps,
  };
}

/**
 * secrets.live: the app has an unexpired client secret; the one in the
 * connector (as the rotation recorded it) still exists and is not expired or
 * about to; and rotation has room to add the next one.
 */
export async function checkSecrets(ctx: DoctorContext): Promise<CheckOutcome> {
  const v = await readSecretsView(ctx, await ctx.needApp());
  const fromRecord = recordVerdict(v);
  const findings = [
    noLiveSecret(v),
    "finding" in fromRecord ? fromRecord.finding : undefined,
    longestLivingFinding(v),
    secretLimitFinding(v),
  ].filter((f): f is Finding => f !== undefined);
  const notes = "note" in fromRecord ? [fromRecord.note] : [];

  const { record, live, latest } = v;
  const details = {
    secrets: v.passwords.map((p) => describe(p, v.now, v.thresholds, v.inConnector)),
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
  thresholds: Thresholds,
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
