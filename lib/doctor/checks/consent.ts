import { isHttpError } from "../../errors.js";
import { SkipCheck, pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { GRAPH_APP_ID, isGraphScope, missingScopes } from "../../microsoft/identifiers.js";
import { cite, sources } from "../sources.js";

/**
 * consent.admin: tenant-wide delegated grants (oAuth2PermissionGrant with
 * consentType AllPrincipals) of the app's service principal in its home
 * tenant cover every Graph scope the connector asks for. Seed 000: a scope
 * added without admin consent made Microsoft refuse the refresh token (45001).
 */
export async function checkAdminConsent(ctx: DoctorContext): Promise<CheckOutcome> {
  const connector = await ctx.needConnector();
  const app = await ctx.needApp();
  const graph = await ctx.graph();
  const appName = app.displayName ?? app.appId;
  const tenantId = ctx.config.azure.tenantId;
  const grantConsent = `Azure portal → App registrations → ${appName} → API permissions → “Grant admin consent for <your tenant>” (an admin).`;
  const wanted = connector.scope.filter(isGraphScope);
  if (wanted.length === 0)
    return pass("The connector asks for no Microsoft Graph scopes: nothing needs consent.");

  const sp = await ctx.servicePrincipal(app.appId);
  if (sp === undefined) {
    return problem(
      "fail",
      `"${appName}" has no service principal (enterprise application) in tenant ${tenantId}: nobody there has consented to it, so sign-ins need consent first (AADSTS65001).`,
      [
        grantConsent + " Granting consent creates the enterprise application.",
        `${cite.nylasForum45001}: “The Microsoft Admin must explicitly grant tenant-wide Admin Consent in Azure”; then “the user must restart the OAuth process”.`,
      ].join("\n"),
      sources("nylasForum45001", "entraErrors"),
      { appId: app.appId, tenantId },
    );
  }
  const graphSp = await ctx.servicePrincipal(GRAPH_APP_ID);
  if (graphSp === undefined) throw new Error(`tenant ${tenantId} has no Microsoft Graph service principal.`);

  let grants;
  try {
    grants = await graph.listOAuth2PermissionGrants(sp.id);
  } catch (error) {
    if (isHttpError(error) && error.statusCode === 403) {
      throw new SkipCheck(
        `the watchdog's identity may not read delegated permission grants (needs Directory.Read.All; rotation does not). Check by hand: Enterprise applications → ${appName} → Permissions → Admin consent must list ${wanted.join(", ")}.`,
      );
    }
    throw error;
  }
  const consented = grants
    .filter((g) => g.consentType === "AllPrincipals" && g.resourceId === graphSp.id)
    .flatMap((g) => g.scope.split(" "))
    .filter((s) => s !== "");
  const missing = missingScopes(wanted, consented);
  const details = { servicePrincipalId: sp.id, consented, missing };
  const elsewhere =
    connector.tenant !== undefined && connector.tenant.toLowerCase() !== tenantId.toLowerCase()
      ? ` (users of other tenants consent in their own tenant)`
      : "";
  if (missing.length === 0) {
    return pass(
      `Tenant-wide admin consent covers all ${wanted.length} Graph scopes of the connector${elsewhere}.`,
      details,
    );
  }
  return problem(
    "fail",
    `No tenant-wide admin consent for ${missing.join(", ")}: Microsoft refuses the refresh token for these scopes (45001, “Provider refused to return refresh_token”)${elsewhere}.`,
    [
      `${cite.nylasForum45001}: “The Microsoft Admin must explicitly grant tenant-wide Admin Consent in Azure for the new ${missing.join(", ")} scope${missing.length === 1 ? "" : "s"}.”`,
      grantConsent,
      "Then “the user must restart the OAuth process to finalize the new permissions and issue a valid refresh token” (see grants.scopes).",
    ].join("\n"),
    sources("nylasForum45001"),
    details,
  );
}
