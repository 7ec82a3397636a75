import type { GraphApplication, GraphClient } from "../../clients/graph.js";
import { isHttpError } from "../../errors.js";
import { SkipCheck, pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { GRAPH_APP_ID, ROLE_ALL, ROLE_IDS, ROLE_OWNED_BY } from "../../microsoft/identifiers.js";
import { cite, sources } from "../sources.js";

/**
 * app.found: the connector's client_id is an app registration in
 * AZURE_TENANT_ID. When it is not, sign-ins fail with AADSTS700016
 * ("Application with identifier … was not found in the directory"): the
 * client id is wrong, or the app lives in another tenant.
 */
export async function checkAppFound(ctx: DoctorContext): Promise<CheckOutcome> {
  const connector = await ctx.needConnector();
  const app = await ctx.app();
  const tenantId = ctx.config.azure.tenantId;
  if (app !== undefined) {
    return pass(
      `App registration "${app.displayName ?? app.appId}" (client ID ${app.appId}) found in tenant ${tenantId}.`,
      {
        appId: app.appId,
        objectId: app.id,
        displayName: app.displayName,
        signInAudience: app.signInAudience ?? null,
      },
    );
  }
  // A multi-tenant app consented here has a service principal but no registration: it is registered elsewhere.
  let ownerTenant: string | undefined;
  try {
    const sp = (await ctx.servicePrincipal(connector.clientId)) as
      { appOwnerOrganizationId?: string | null } | undefined;
    ownerTenant = sp?.appOwnerOrganizationId ?? undefined;
  } catch {
    ownerTenant = undefined;
  }
  const elsewhere = ownerTenant !== undefined && ownerTenant.toLowerCase() !== tenantId.toLowerCase();
  return problem(
    "fail",
    elsewhere
      ? `Tenant ${tenantId} has only the enterprise application (service principal) of client ID ${connector.clientId}; its registration lives in tenant ${ownerTenant}.`
      : `No app registration with client ID ${connector.clientId} (the connector's client_id) in tenant ${tenantId}.`,
    [
      "This is the cause behind AADSTS700016 (“Application with identifier … was not found in the directory”): the client ID is wrong, or AZURE_TENANT_ID names another tenant.",
      elsewhere
        ? `Set AZURE_TENANT_ID=${ownerTenant} (the tenant that owns the registration), so the watchdog can read and rotate its secrets.`
        : `Compare the Application (client) ID and the Directory (tenant) ID on the app's Overview page (Azure portal → App registrations) with the connector's client_id (${connector.clientId}) and AZURE_TENANT_ID (${tenantId}); fix whichever is wrong.`,
      `${cite.nylasForum45001}: “ensure the Application (client) ID, the Client Secret Value, and the Redirect URI are entered exactly in Nylas for the correct region.”`,
    ].join("\n"),
    sources("nylasForum45001", "entraErrors"),
    { clientId: connector.clientId, tenantId, ...(elsewhere ? { ownerTenant } : {}) },
  );
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Doctor signed in as a person judges that person's rights, not the deployed identity's. */
function signedInAsUser(claims: Record<string, unknown>): CheckOutcome | undefined {
  if (claims.idtyp !== "user" && typeof claims.scp !== "string") return undefined;
  const who =
    typeof claims.upn === "string" ? claims.upn : typeof claims.oid === "string" ? claims.oid : "a user";
  return problem(
    "warn",
    `Doctor is signed in to Graph as ${who} (a user), not as the watchdog's identity: the deployed identity's permission cannot be judged from here.`,
    "Run doctor with the watchdog's own credential: in the Function App, or locally with AZURE_CLIENT_ID/AZURE_CLIENT_SECRET of the service principal the watchdog uses.",
    sources("graphAddPassword"),
  );
}

/** The app's owners; undefined when Graph does not let the identity read them. */
async function readOwners(graph: GraphClient, appObjectId: string): Promise<string[] | undefined> {
  try {
    return await graph.listOwnerIds(appObjectId);
  } catch (error) {
    if (!isHttpError(error) || (error.statusCode !== 403 && error.statusCode !== 404)) throw error;
    return undefined;
  }
}

/** A role assigned after the current token was issued appears only in the next token. */
async function ownedByAssignedNotInToken(
  ctx: DoctorContext,
  graph: GraphClient,
  oid: string,
): Promise<boolean> {
  try {
    const graphSp = await ctx.servicePrincipal(GRAPH_APP_ID);
    const assignments = await graph.listAppRoleAssignments(oid);
    return assignments.some(
      (a) =>
        a.appRoleId === ROLE_IDS[ROLE_OWNED_BY] && (graphSp === undefined || a.resourceId === graphSp.id),
    );
  } catch {
    return false;
  }
}

async function graphServicePrincipalId(ctx: DoctorContext): Promise<string> {
  const placeholder = "<Microsoft Graph service principal object id>";
  try {
    return (await ctx.servicePrincipal(GRAPH_APP_ID))?.id ?? placeholder;
  } catch {
    // Keep the placeholder: the fix still reads right.
    return placeholder;
  }
}

/** What the identity holds, as its token and the app's owners say. */
interface Standing {
  oid: string;
  appName: string;
  ownedBy: boolean;
  isOwner: boolean;
  owners: string[] | undefined;
  assignedNotInToken: boolean;
}

/** The steps that give the identity what it lacks, and the names of what it lacks. */
function permissionSteps(
  s: Standing,
  app: GraphApplication,
  graphRoot: string,
  graphSpId: string,
): { steps: string[]; missing: string[] } {
  const { oid } = s;
  const steps: string[] = [];
  const missing: string[] = [];
  if (!s.ownedBy && !s.assignedNotInToken) {
    missing.push(`the Graph application permission ${ROLE_OWNED_BY}`);
    steps.push(
      `Grant the watchdog's identity the Microsoft Graph application permission ${ROLE_OWNED_BY} (an admin; managed identities have no consent screen, so use Graph): ` +
        `POST ${graphRoot}/servicePrincipals/${oid}/appRoleAssignments {"principalId":"${oid}","resourceId":"${graphSpId}","appRoleId":"${ROLE_IDS[ROLE_OWNED_BY]}"} ` +
        `(PowerShell: New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId ${oid} -PrincipalId ${oid} -ResourceId ${graphSpId} -AppRoleId ${ROLE_IDS[ROLE_OWNED_BY]}).`,
    );
  }
  if (s.assignedNotInToken) {
    steps.push(
      `${ROLE_OWNED_BY} is assigned, but the watchdog's current token predates it: tokens are cached, so restart the Function App (or wait for the token to expire) and run doctor again.`,
    );
  }
  if (!s.isOwner) {
    missing.push(
      s.owners === undefined ? "ownership of the app (could not be read)" : "ownership of the app",
    );
    steps.push(
      `Make the watchdog an owner of "${s.appName}" (a human admin or an existing owner must: “Application.ReadWrite.OwnedBy isn't sufficient to add another owner”): ` +
        `az ad app owner add --id ${app.appId} --owner-object-id ${oid}  — or POST ${graphRoot}/applications/${app.id}/owners/$ref {"@odata.id":"${graphRoot}/directoryObjects/${oid}"}.`,
    );
  }
  steps.push(
    `Least privilege is ${ROLE_OWNED_BY} + ownership (this app only); ${ROLE_ALL} also works but can change every app in the tenant.`,
  );
  return { steps, missing };
}

/** The pass verdicts: the identity can rotate the app, or is not asked to. */
function passSummary(ctx: DoctorContext, s: Standing, writeAll: string | undefined): string | undefined {
  const { oid, appName } = s;
  if (writeAll !== undefined)
    return `The watchdog (object id ${oid}) can rotate "${appName}": it holds ${writeAll}, which covers every app in the tenant; least privilege is ${ROLE_OWNED_BY} plus ownership of this app.`;
  if (s.ownedBy && s.isOwner)
    return `The watchdog (object id ${oid}) can rotate "${appName}": ${ROLE_OWNED_BY} and owner of the app (least privilege).`;
  if (ctx.config.rotation.mode === "off")
    return `ROTATION=off: the watchdog (object id ${oid}) only reads "${appName}", which it can; to let it rotate, give it ${ROLE_OWNED_BY} and make it an owner.`;
  return undefined;
}

/**
 * app.permission: the watchdog's own identity (the claims of its Graph token)
 * can rotate the connector's app: owner + Application.ReadWrite.OwnedBy (least
 * privilege), or Application.ReadWrite.All.
 */
export async function checkAppPermission(ctx: DoctorContext): Promise<CheckOutcome> {
  const app = await ctx.needApp();
  const graph = await ctx.graph();
  const claims = await ctx.claims();
  const appName = app.displayName ?? app.appId;
  const asUser = signedInAsUser(claims);
  if (asUser !== undefined) return asUser;
  const oid = typeof claims.oid === "string" ? claims.oid : undefined;
  if (oid === undefined) throw new SkipCheck("the watchdog's Graph token carries no oid claim.");
  const roles = new Set(stringList(claims.roles));
  const writeAll = [ROLE_ALL, "Directory.ReadWrite.All"].find((r) => roles.has(r));
  const ownedBy = roles.has(ROLE_OWNED_BY);
  const owners = await readOwners(graph, app.id);
  const isOwner = owners?.includes(oid) ?? false;
  const details = {
    identity: { oid, appId: typeof claims.appid === "string" ? claims.appid : null },
    roles: [...roles],
    owner: owners === undefined ? null : isOwner,
    rotation: ctx.config.rotation.mode,
  };
  const standing: Standing = { oid, appName, ownedBy, isOwner, owners, assignedNotInToken: false };
  const able = passSummary(ctx, standing, writeAll);
  if (able !== undefined) return pass(able, details);

  if (!ownedBy) standing.assignedNotInToken = await ownedByAssignedNotInToken(ctx, graph, oid);
  const graphSpId = await graphServicePrincipalId(ctx);
  const graphRoot = `${ctx.config.azure.graphEndpoint.replace(/\/+$/, "")}/v1.0`;
  const { steps, missing } = permissionSteps(standing, app, graphRoot, graphSpId);
  return problem(
    standing.assignedNotInToken && isOwner ? "warn" : "fail",
    `The watchdog (object id ${oid}) cannot rotate "${appName}" yet: it lacks ${missing.length > 0 ? missing.join(" and ") : `${ROLE_OWNED_BY} in its current token`}.`,
    steps.join("\n"),
    sources("graphAddPassword", "graphOwners", "contract"),
    details,
  );
}
