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
  let app: GraphApplication | undefined;
  try {
    app = await ctx.app();
  } catch (error) {
    // One cause, one finding: a token without any role that reads app registrations is app.permission's.
    if (isGraphRefusal(error) && !holdsReadRole(await ctx.claims().catch(() => ({}))))
      throw new SkipCheck(
        "Graph refused to let the watchdog read the app registration (see app.permission).",
      );
    throw error;
  }
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

/**
 * Graph application permissions that let an app-only token read an app registration (OwnedBy: the
 * apps it owns). Microsoft Graph, "Get application": least privileged Application.Read.All, higher
 * Application.ReadWrite.OwnedBy, Application.ReadWrite.All, Directory.Read.All
 * (https://learn.microsoft.com/graph/api/application-get).
 */
const READ_ROLES = [
  "Application.Read.All",
  ROLE_OWNED_BY,
  ROLE_ALL,
  "Directory.Read.All",
  "Directory.ReadWrite.All",
] as const;

function holdsReadRole(claims: Record<string, unknown>): boolean {
  const roles = new Set(stringList(claims.roles));
  return READ_ROLES.some((r) => roles.has(r));
}

/** Graph answered 403: this identity may not read it (as opposed to not reachable, or not there). */
function isGraphRefusal(error: unknown): boolean {
  return isHttpError(error) && error.service === "graph" && error.statusCode === 403;
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

/**
 * A role assigned after the current token was issued appears only in the next token. Undefined when
 * the identity may not read its own assignments (it needs a directory read role for that).
 */
async function ownedByAssignedNotInToken(
  ctx: DoctorContext,
  graph: GraphClient,
  oid: string,
): Promise<boolean | undefined> {
  try {
    const graphSp = await ctx.servicePrincipal(GRAPH_APP_ID);
    const assignments = await graph.listAppRoleAssignments(oid);
    return assignments.some(
      (a) =>
        a.appRoleId === ROLE_IDS[ROLE_OWNED_BY] && (graphSp === undefined || a.resourceId === graphSp.id),
    );
  } catch {
    return undefined;
  }
}

const GRAPH_SP_PLACEHOLDER = "<Microsoft Graph service principal object id>";

async function graphServicePrincipalId(ctx: DoctorContext): Promise<string> {
  const placeholder = GRAPH_SP_PLACEHOLDER;
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
  /** Undefined: the identity could not read its own role assignments. */
  assignedNotInToken: boolean | undefined;
}

/** The app the identity must be able to rotate; `objectId` undefined when Graph refused to read it. */
interface Target {
  appId: string;
  objectId: string | undefined;
  name: string;
}

/** The steps that give the identity what it lacks, and the names of what it lacks. */
function permissionSteps(
  s: Standing,
  app: Target,
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
        `(PowerShell: New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId ${oid} -PrincipalId ${oid} -ResourceId ${graphSpId} -AppRoleId ${ROLE_IDS[ROLE_OWNED_BY]}).` +
        // The watchdog could not read it; the operator can, and it differs per tenant.
        (graphSpId === GRAPH_SP_PLACEHOLDER
          ? ` The Microsoft Graph service principal's object id differs per tenant: az ad sp show --id ${GRAPH_APP_ID} --query id -o tsv.`
          : ""),
    );
  }
  if (s.assignedNotInToken === true) {
    steps.push(
      `${ROLE_OWNED_BY} is assigned, but the watchdog's current token predates it: tokens are cached, so restart the Function App (or wait for the token to expire) and run doctor again.`,
    );
  }
  if (!s.ownedBy && s.assignedNotInToken === undefined) {
    steps.push(
      `Granted it already? A token carries only the roles assigned before it was issued, and tokens are cached: restart the Function App (or wait for the token to expire), then check again.`,
    );
  }
  if (!s.isOwner) {
    missing.push(
      s.owners === undefined ? "ownership of the app (could not be read)" : "ownership of the app",
    );
    // Graph addresses an application by appId too ("applications(appId='…')"), for when its object id is unreadable.
    const path =
      app.objectId === undefined ? `applications(appId='${app.appId}')` : `applications/${app.objectId}`;
    steps.push(
      `Make the watchdog an owner of "${s.appName}" (a human admin or an existing owner must: “Application.ReadWrite.OwnedBy isn't sufficient to add another owner”): ` +
        `az ad app owner add --id ${app.appId} --owner-object-id ${oid}  — or POST ${graphRoot}/${path}/owners/$ref {"@odata.id":"${graphRoot}/directoryObjects/${oid}"}.`,
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
 * The connector's app as app.permission judges it. When Graph refused to read it (403), the
 * verdict still stands on the token's roles: an identity deployed without its Graph permission
 * cannot read the app either, and that is this check's finding, not app.found's.
 */
async function permissionTarget(ctx: DoctorContext): Promise<Target> {
  try {
    const app = await ctx.needApp();
    return { appId: app.appId, objectId: app.id, name: app.displayName ?? app.appId };
  } catch (skip) {
    if (!(skip instanceof SkipCheck)) throw skip;
    const refused = await ctx.app().then(
      () => false,
      (error: unknown) => isGraphRefusal(error),
    );
    if (!refused) throw skip;
    const { clientId } = await ctx.needConnector();
    return { appId: clientId, objectId: undefined, name: clientId };
  }
}

/**
 * app.permission: the watchdog's own identity (the claims of its Graph token)
 * can rotate the connector's app: owner + Application.ReadWrite.OwnedBy (least
 * privilege), or Application.ReadWrite.All.
 */
export async function checkAppPermission(ctx: DoctorContext): Promise<CheckOutcome> {
  const app = await permissionTarget(ctx);
  const graph = await ctx.graph();
  const claims = await ctx.claims();
  const asUser = signedInAsUser(claims);
  if (asUser !== undefined) return asUser;
  const oid = typeof claims.oid === "string" ? claims.oid : undefined;
  if (oid === undefined) throw new SkipCheck("the watchdog's Graph token carries no oid claim.");
  const readable = app.objectId !== undefined;
  // Refused although a role should let it read: something other than the roles (app.found reports it).
  if (!readable && holdsReadRole(claims))
    throw new SkipCheck("the app registration could not be read (see app.found).");
  const roles = new Set(stringList(claims.roles));
  const writeAll = [ROLE_ALL, "Directory.ReadWrite.All"].find((r) => roles.has(r));
  const ownedBy = roles.has(ROLE_OWNED_BY);
  const owners = app.objectId === undefined ? undefined : await readOwners(graph, app.objectId);
  const isOwner = owners?.includes(oid) ?? false;
  const details = {
    identity: { oid, appId: typeof claims.appid === "string" ? claims.appid : null },
    roles: [...roles],
    owner: owners === undefined ? null : isOwner,
    rotation: ctx.config.rotation.mode,
    readable,
  };
  const standing: Standing = { oid, appName: app.name, ownedBy, isOwner, owners, assignedNotInToken: false };
  const able = readable ? passSummary(ctx, standing, writeAll) : undefined;
  if (able !== undefined) return pass(able, details);

  if (!ownedBy) standing.assignedNotInToken = await ownedByAssignedNotInToken(ctx, graph, oid);
  const graphSpId = await graphServicePrincipalId(ctx);
  const graphRoot = `${ctx.config.azure.graphEndpoint.replace(/\/+$/, "")}/v1.0`;
  const { steps, missing } = permissionSteps(standing, app, graphRoot, graphSpId);
  const lacks = missing.length > 0 ? missing.join(" and ") : `${ROLE_OWNED_BY} in its current token`;
  return problem(
    standing.assignedNotInToken && isOwner ? "warn" : "fail",
    readable
      ? `The watchdog (object id ${oid}) cannot rotate "${app.name}" yet: it lacks ${lacks}.`
      : `The watchdog (object id ${oid}) cannot read or rotate the connector's app (client ID ${app.appId}): Graph refused to read it (403), and it lacks ${lacks}.`,
    steps.join("\n"),
    sources("graphAddPassword", "graphOwners", "contract"),
    details,
  );
}
