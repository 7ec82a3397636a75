import { errorMessage } from "../../errors.js";
import type { GraphApplication } from "../../clients/graph.js";
import { pass, problem, SkipCheck, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import {
  GRAPH_APP_ID,
  REQUIRED_SCOPES,
  isGraphScope,
  missingScopes,
  scopeKey,
} from "../../microsoft/identifiers.js";
import { requestedPermissions } from "../requested-permissions.js";
import { cite, sources, type SourceKey } from "../sources.js";
import { connectorScopePatch } from "./scope-patch.js";

type ScopeProblem = { status: "warn" | "fail"; summary: string; fix: string; source: SourceKey[] };

/** What the connector's own scope list lacks, whatever the app requests. */
function connectorScopeProblems(
  keys: ReadonlySet<string>,
  missingRequired: readonly string[],
): ScopeProblem[] {
  const problems: ScopeProblem[] = [];
  if (missingRequired.includes("offline_access")) {
    problems.push({
      status: "fail",
      summary:
        "The connector does not ask for offline_access: Microsoft issues no refresh token (45001, “Provider refused to return refresh_token”) and grants stop working when the first access token expires.",
      fix: `${cite.nylasForum45001}: “Verify that the offline_access scope is included in your OAuth request, as it is required by Microsoft to issue the refresh token.”`,
      source: ["nylasForum45001", "nylasAuthTroubleshooting"],
    });
  }
  const otherRequired = missingRequired.filter((s) => s !== "offline_access");
  if (otherRequired.length > 0) {
    problems.push({
      status: "fail",
      summary: `The connector lacks ${otherRequired.join(", ")}, which ${cite.nylasCreateAzureApp} marks required for every Nylas v3 Microsoft connector.`,
      fix: `${cite.nylasCreateAzureApp}: “Expand the OpenID permissions section and enable the following permissions: offline_access, openid, profile, User.Read.”`,
      source: ["nylasCreateAzureApp"],
    });
  }
  if (keys.has("mail.send") && !keys.has("mail.readwrite")) {
    problems.push({
      status: "fail",
      summary: "The connector asks for Mail.Send without Mail.ReadWrite: sending through Nylas answers 403.",
      fix: `${cite.nylasAuthTroubleshooting}: “Microsoft requires Mail.ReadWrite on top of Mail.Send to create and send messages via the Nylas API. Add Mail.ReadWrite to your connector’s scope list, then have the affected user re-authenticate to issue a new grant with the updated scopes.”`,
      source: ["nylasAuthTroubleshooting"],
    });
  }
  return problems;
}

interface AppComparison {
  app: GraphApplication | undefined;
  /** Why the app could not be compared, when it could not. */
  appNote: string | undefined;
  notRequested: string[];
  unresolved: number;
  notRequestedProblem?: ScopeProblem;
}

/** The connector's Graph scopes the app registration does not request as delegated permissions. */
async function compareWithApp(ctx: DoctorContext, scope: readonly string[]): Promise<AppComparison> {
  let app: GraphApplication;
  try {
    app = await ctx.needApp();
  } catch (error) {
    const appNote = error instanceof SkipCheck ? error.message : errorMessage(error);
    return { app: undefined, appNote, notRequested: [], unresolved: 0 };
  }
  const requested = (await requestedPermissions(ctx, app)).filter(
    (p) => p.resourceAppId === GRAPH_APP_ID && p.type === "Scope",
  );
  const unresolved = requested.filter((p) => p.name === undefined).length;
  const names = requested.map((p) => p.name).filter((n): n is string => n !== undefined);
  const notRequested = missingScopes(scope.filter(isGraphScope), names);
  if (notRequested.length === 0) return { app, appNote: undefined, notRequested, unresolved };
  const appName = app.displayName ?? app.appId;
  // Microsoft's v2 endpoint allows dynamic consent: a scope the app does not list can still be granted
  // when the user (or an admin, for admin-only scopes) consents at sign-in. So this is a consent
  // question, not a registration error: listing it lets admin consent cover it up front.
  const notRequestedProblem: ScopeProblem = {
    status: "warn",
    summary: `The connector asks for ${notRequested.join(", ")}, which "${appName}" does not list as delegated Microsoft Graph permission${notRequested.length === 1 ? "" : "s"}: sign-ins rely on dynamic consent for ${notRequested.length === 1 ? "it" : "them"}, and where nobody consented Microsoft refuses the refresh token (45001).`,
    fix: [
      `Azure portal → App registrations → ${appName} → API permissions → Add a permission → Microsoft Graph → Delegated permissions: add ${notRequested.join(", ")}; then “Grant admin consent” (see consent.admin).`,
      `${cite.nylasForum45001}: “Ensure all required scopes (including OnlineMeetings.ReadWrite) are present in Azure, and Admin consent has been granted for all permissions.” After the change “you must restart the entire OAuth process (re-authenticate the user)”.`,
    ].join("\n"),
    source: ["nylasForum45001"],
  };
  return { app, appNote: undefined, notRequested, unresolved, notRequestedProblem };
}

/**
 * scopes.required: the connector asks for offline_access (else no refresh
 * token: 45001) and openid profile User.Read (seed 002); Mail.Send comes with
 * Mail.ReadWrite (seed 003); and every scope is a delegated permission the app
 * requests (seed 000: "Ensure all required scopes … are present in Azure").
 */
export async function checkScopes(ctx: DoctorContext): Promise<CheckOutcome> {
  const connector = await ctx.needConnector();
  const { apiUri } = await ctx.needNylas();
  const scope = connector.scope;
  const keys = new Set(scope.map(scopeKey));
  if (scope.length === 0) {
    return problem(
      "warn",
      "The connector has no scope list: which permissions users grant is left to Nylas' defaults.",
      [
        `Set the scopes explicitly; ${cite.nylasCreateAzureApp} requires offline_access, openid, profile and User.Read, plus what your app uses (e.g. Mail.Read, Calendars.ReadWrite):`,
        connectorScopePatch(apiUri, [...REQUIRED_SCOPES]),
      ].join("\n"),
      sources("nylasCreateAzureApp"),
    );
  }

  const missingRequired = missingScopes(REQUIRED_SCOPES, scope);
  const problems = connectorScopeProblems(keys, missingRequired);
  const wanted = [
    ...scope,
    ...missingRequired,
    ...(keys.has("mail.send") && !keys.has("mail.readwrite") ? ["Mail.ReadWrite"] : []),
  ];
  const connectorFix = problems.length > 0 ? connectorScopePatch(apiUri, dedupe(wanted)) : undefined;

  const { app, appNote, notRequested, unresolved, notRequestedProblem } = await compareWithApp(ctx, scope);
  if (notRequestedProblem !== undefined) problems.push(notRequestedProblem);

  const details = {
    connectorScope: scope,
    missingRequired,
    notRequestedByApp: notRequested,
    ...(unresolved > 0 ? { unresolvedPermissionIds: unresolved } : {}),
    ...(appNote !== undefined ? { appComparison: `skipped: ${appNote}` } : {}),
  };
  if (problems.length === 0) {
    return pass(
      `The connector asks for ${scope.length} scopes, offline_access openid profile User.Read included${app !== undefined ? `, all requested by the app` : ` (not compared with the app: ${appNote})`}.`,
      details,
    );
  }
  return problem(
    problems.some((p) => p.status === "fail") ? "fail" : "warn",
    problems.map((p) => p.summary).join(" "),
    [...problems.map((p) => p.fix), ...(connectorFix ? [connectorFix] : [])].join("\n"),
    sources(...new Set(problems.flatMap((p) => p.source))),
    details,
  );
}

function dedupe(scopes: string[]): string[] {
  const seen = new Set<string>();
  return scopes.filter((s) => {
    const k = scopeKey(s);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
