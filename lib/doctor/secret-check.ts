/**
 * `watchdog doctor --secret`: is this value a client secret Entra accepts for
 * the connector's app? Seed 000's first cause was the secret's ID pasted
 * where its value belongs; that is recognised without asking Entra. The value
 * lives only in memory here: it is never logged, stored or printed, not even
 * its first characters (Graph's `hint` is compared, never shown).
 */
import type { GraphApplication, PasswordCredential } from "../clients/graph.js";
import { checkClientSecret, type SecretCheck, type SecretCheckInput } from "../clients/entra-token.js";
import { errorMessage, isHttpError } from "../errors.js";
import { classify, daysLeft, isExpired, thresholdsOf, type Thresholds } from "../watch/classify.js";
import { SkipCheck } from "./check.js";
import { DoctorContext, type DoctorDeps, type DoctorOptions } from "./context.js";
import { cite, sources } from "./sources.js";

export interface SecretCheckResult {
  accepted: boolean;
  summary: string;
  fix?: string;
  source?: string;
  details: Record<string, unknown>;
  /** 0 accepted · 1 not · 2 nothing to check against (no connector) · 3 Nylas or Entra unreachable/refusing. */
  exitCode: 0 | 1 | 2 | 3;
}

export interface SecretCheckOptions extends DoctorOptions {
  /** The Entra probe; tests may pass their own, production uses the real token endpoint. */
  checkClientSecret?: (input: SecretCheckInput) => Promise<SecretCheck>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const day = (iso: string | null) => (iso === null ? "never" : iso.slice(0, 10));

function describeKey(p: PasswordCredential): string {
  return `secret ${p.keyId}${p.displayName ? ` "${p.displayName}"` : ""}`;
}

/** Entra's own Propagation has no SLA; within this long after creation a refusal may just be "not yet". */
const PROPAGATION_SUSPECT_MS = 15 * 60_000;

type Failure = { failure: SecretCheckResult };

/** The connector's client id, or why there is nothing to check the value against. */
async function connectorClientId(ctx: DoctorContext): Promise<{ clientId: string } | Failure> {
  try {
    return { clientId: (await ctx.needConnector()).clientId };
  } catch (error) {
    const probe = await ctx.nylasProbe();
    if (probe.kind === "refused" || probe.kind === "error") {
      const message = probe.kind === "refused" ? probe.error.message : errorMessage(probe.error);
      return {
        failure: {
          accepted: false,
          summary: `Cannot find the connector's app: Nylas ${probe.kind === "refused" ? "refused the API key" : "could not be read"} (${message}).`,
          fix: "Run `watchdog doctor` (nylas.region) to fix NYLAS_API_KEY / NYLAS_API_URI first.",
          details: {},
          exitCode: 3,
        },
      };
    }
    return {
      failure: {
        accepted: false,
        summary: `Nothing to check the value against: ${error instanceof SkipCheck ? error.message : errorMessage(error)}`,
        fix: "Create the Microsoft connector first (`watchdog doctor`, connector.present).",
        details: {},
        exitCode: 2,
      },
    };
  }
}

/** The connector's app, or a note on why its secrets are unknown (the check goes on without them). */
async function readApp(
  ctx: DoctorContext,
  clientId: string,
  tenantId: string,
): Promise<{ app?: GraphApplication; note?: string }> {
  try {
    const app = await ctx.app();
    return app === undefined
      ? { note: `no app registration with client ID ${clientId} in tenant ${tenantId}` }
      : { app };
  } catch (error) {
    return {
      note: `the app's secrets could not be read (${isHttpError(error) ? error.message : errorMessage(error)})`,
    };
  }
}

async function readRecordedKeyId(ctx: DoctorContext): Promise<string | undefined> {
  try {
    return (await ctx.rotationRecord())?.keyId;
  } catch {
    return undefined;
  }
}

/** What the verdicts share: the value, the app it was checked against, and what is known of its secrets. */
interface Candidate {
  secret: string;
  now: Date;
  clientId: string;
  tenantId: string;
  app: GraphApplication | undefined;
  appName: string;
  /** The app's secrets whose hint (first three characters) the value begins with. */
  sameHint: PasswordCredential[];
  details: Record<string, unknown>;
  copyValue: string;
}

function acceptedVerdict(
  c: Candidate,
  thresholds: Thresholds,
  recordedKeyId: string | undefined,
): SecretCheckResult {
  const live = c.sameHint.filter((p) => !isExpired(p.endDateTime, c.now));
  const key = live.length === 1 ? live[0] : undefined;
  const left = key ? daysLeft(key.endDateTime, c.now) : null;
  const status = key ? classify(key.endDateTime, c.now, thresholds) : "ok";
  const which = key
    ? ` It is ${describeKey(key)}, expiring ${day(key.endDateTime)}${left === null ? "" : ` (${left} days)`}.`
    : "";
  const recorded =
    key && recordedKeyId !== undefined
      ? key.keyId.toLowerCase() === recordedKeyId.toLowerCase()
        ? " The rotation record says the connector holds this one."
        : ` The rotation record says the connector holds ${recordedKeyId}, not this one.`
      : "";
  return {
    accepted: true,
    summary: `Entra accepts this value as a client secret of ${c.appName}.${which}${recorded}`,
    ...(status === "critical" || status === "expired"
      ? {
          fix: `It expires soon: create a new secret and put its value into the connector (${cite.nylasRenewSecret}), or let \`watchdog run\` rotate.`,
          source: sources("nylasRenewSecret"),
        }
      : {}),
    details: {
      ...c.details,
      ...(key ? { keyId: key.keyId, endDateTime: key.endDateTime, daysLeft: left } : {}),
    },
    exitCode: 0,
  };
}

function expiredVerdict(c: Candidate, aadsts: string | undefined): SecretCheckResult {
  const key = c.sameHint.find((p) => isExpired(p.endDateTime, c.now));
  return {
    accepted: false,
    summary: `This value is an expired secret of ${c.appName}${key ? `: it matches ${describeKey(key)}, which ended ${day(key.endDateTime)}` : ""}. Entra refuses it (AADSTS${aadsts ?? "7000222"}).`,
    fix: [
      `${cite.nylasRenewSecret}: in the Azure portal → App registrations → ${c.appName} → “Certificates & secrets” → “New client secret”; “Make a note of the value of the client secret - this is your new client secret”, and update it in the Nylas connector.`,
      "Or let the watchdog rotate: `watchdog run --force-rotate`.",
    ].join("\n"),
    source: sources("nylasRenewSecret"),
    details: { ...c.details, ...(key ? { keyId: key.keyId, endDateTime: key.endDateTime } : {}) },
    exitCode: 1,
  };
}

/** Why Entra refused a value that is neither the ID of a secret nor an expired one. */
function refusedSummary(c: Candidate, aadsts: string | undefined): { summary: string; fix: string } {
  const fresh = c.sameHint.find(
    (p) =>
      !isExpired(p.endDateTime, c.now) &&
      p.startDateTime !== null &&
      c.now.getTime() - Date.parse(p.startDateTime) < PROPAGATION_SUSPECT_MS,
  );
  if (fresh !== undefined)
    return {
      summary: `Entra refuses this value (AADSTS${aadsts ?? "?"}), but it may be ${describeKey(fresh)}, created at ${fresh.startDateTime}: a new secret can take minutes before Entra accepts it.`,
      fix:
        "Wait a few minutes and check again; if Entra still refuses it, copy the value again.\n" +
        c.copyValue,
    };
  const code = aadsts ?? "7000215";
  if (GUID.test(c.secret))
    return {
      summary: `This looks like a secret ID (a GUID), not a secret value, and it is not the ID of any secret of ${c.appName}. Entra refuses it (AADSTS${code}).`,
      fix: c.copyValue,
    };
  const partial = c.sameHint.find((p) => !isExpired(p.endDateTime, c.now));
  if (partial !== undefined)
    return {
      summary: `Entra refuses this value (AADSTS${code}). It begins like ${describeKey(partial)}, but is not its exact value: part of it was lost or changed when copying.`,
      fix: c.copyValue,
    };
  const noneLikeIt =
    c.app !== undefined
      ? " — no secret of the app begins like it (a value of another app, or of a secret deleted since)"
      : "";
  return {
    summary: `Entra refuses this value (AADSTS${code}): it is not a secret of ${c.appName}${noneLikeIt}.`,
    fix: c.copyValue,
  };
}

function refusedVerdict(c: Candidate, result: SecretCheck & { ok: false }): SecretCheckResult {
  if (result.error === undefined && result.aadsts === undefined) {
    return {
      accepted: false,
      summary: `Entra could not be reached to check the value: ${result.message}`,
      fix: "Check that AZURE_AUTHORITY_HOST is reachable, then try again.",
      details: c.details,
      exitCode: 3,
    };
  }
  c.details.aadsts = result.aadsts ?? null;
  c.details.error = result.error ?? null;
  const expired = c.sameHint.filter((p) => isExpired(p.endDateTime, c.now));
  if (result.aadsts === "7000222" || (expired.length > 0 && expired.length === c.sameHint.length))
    return expiredVerdict(c, result.aadsts);
  if (result.aadsts === "700016") {
    return {
      accepted: false,
      summary: `Entra has no app ${c.clientId} in tenant ${c.tenantId} (AADSTS700016), so no value can work.`,
      fix: "Run `watchdog doctor` (app.found): the connector's client_id or AZURE_TENANT_ID is wrong.",
      source: sources("nylasForum45001", "entraErrors"),
      details: c.details,
      exitCode: 1,
    };
  }
  return {
    accepted: false,
    ...refusedSummary(c, result.aadsts),
    source: sources("nylasForum45001"),
    details: c.details,
    exitCode: 1,
  };
}

export async function checkCandidateSecret(
  deps: DoctorDeps,
  secret: string,
  options: SecretCheckOptions = {},
): Promise<SecretCheckResult> {
  const ctx = new DoctorContext(deps, options);
  const { config } = deps;
  const now = deps.clock.now();
  const tenantId = config.azure.tenantId;

  const found = await connectorClientId(ctx);
  if ("failure" in found) return found.failure;
  const { clientId } = found;

  const { app, note } = await readApp(ctx, clientId, tenantId);
  const appName = app?.displayName ? `"${app.displayName}" (${clientId})` : clientId;
  const passwords = app?.passwordCredentials ?? [];
  const details: Record<string, unknown> = { appId: clientId, tenantId };
  if (note !== undefined) details.note = note;

  const copyValue = [
    `${cite.nylasForum45001}: “Ensure the secret being sent in the request is the client secret value, not the client secret ID.”`,
    `In the Azure portal → App registrations → ${appName} → Certificates & secrets, “copy the Value field of the secret (which is only visible immediately after creation, not the Secret ID).”`,
    "“If the original value was not saved, they must generate a new secret and update the Nylas connector with that correct Client Secret Value.”",
  ].join("\n");

  // Seed 000: the ID (a GUID) pasted instead of the value. Recognised locally; Entra would only say 7000215.
  const byId = passwords.find((p) => p.keyId.toLowerCase() === secret.toLowerCase());
  if (byId !== undefined) {
    return {
      accepted: false,
      summary: `This is the secret ID, not its value: it is the ID of ${describeKey(byId)} of ${appName}. Entra refuses it with AADSTS7000215.`,
      fix: copyValue,
      source: sources("nylasForum45001"),
      details: { ...details, keyId: byId.keyId },
      exitCode: 1,
    };
  }

  const probe = options.checkClientSecret ?? checkClientSecret;
  const result = await probe({
    tenantId,
    clientId,
    secret,
    authorityHost: config.azure.authorityHost,
    graphEndpoint: config.azure.graphEndpoint,
  });
  // Graph's hint is the first three characters: compared here, never shown.
  const sameHint = passwords.filter((p) => p.hint !== null && p.hint !== "" && secret.startsWith(p.hint));
  const thresholds = thresholdsOf(config);
  const recordedKeyId = await readRecordedKeyId(ctx);
  const c: Candidate = { secret, now, clientId, tenantId, app, appName, sameHint, details, copyValue };
  return result.ok ? acceptedVerdict(c, thresholds, recordedKeyId) : refusedVerdict(c, result);
}
