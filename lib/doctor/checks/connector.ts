import { SkipCheck, pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { REQUIRED_SCOPES } from "../../microsoft/identifiers.js";
import { sources } from "../sources.js";

/** The connector PATCH body shape, with placeholders: Nylas replaces `settings` wholesale, so all three go. */
export function connectorPatchExample(
  apiUri: string,
  settings: { clientId: string; tenant: string },
): string {
  return (
    `curl -X PATCH ${apiUri}/v3/connectors/microsoft -H "Authorization: Bearer $NYLAS_API_KEY" -H "Content-Type: application/json" ` +
    `-d '{"settings":{"client_id":"${settings.clientId}","client_secret":"<client secret VALUE>","tenant":"${settings.tenant}"}}'` +
    " (Nylas replaces the whole settings object on PATCH: always send client_id, client_secret and tenant together)"
  );
}

/** connector.present: a Microsoft connector exists, with a client_id and a tenant. */
export async function checkConnectorPresent(ctx: DoctorContext): Promise<CheckOutcome> {
  const { apiUri } = await ctx.needNylas();
  const probe = await ctx.nylasProbe();
  const connector = probe.kind === "ok" ? probe.connector : undefined;
  if (connector === undefined) {
    return problem(
      "fail",
      "This Nylas application has no Microsoft connector: nobody can sign in with Microsoft, and there is no secret to watch.",
      [
        "Add the Microsoft connector with the Azure app's client ID and secret value (seed 002, “Add Microsoft connector to Nylas”):",
        `curl -X POST ${apiUri}/v3/connectors -H "Authorization: Bearer $NYLAS_API_KEY" -H "Content-Type: application/json" ` +
          `-d '{"name":"microsoft","provider":"microsoft","settings":{"client_id":"<AZURE_CLIENT_ID>","client_secret":"<AZURE_CLIENT_SECRET>","tenant":"common"},"scope":${JSON.stringify(REQUIRED_SCOPES)}}'`,
      ].join("\n"),
      sources("seed002"),
    );
  }
  const details = {
    name: connector.name ?? null,
    clientId: connector.clientId ?? null,
    tenant: connector.tenant ?? null,
    scope: connector.scope,
  };
  if (connector.clientId === undefined) {
    return problem(
      "fail",
      "The Microsoft connector has no client_id: Nylas cannot tell Microsoft which Azure app signs users in.",
      [
        "Set the Azure app's Application (client) ID (App registrations → your app → Overview) in the connector — seed 000: “ensure the Application (client) ID, the Client Secret Value, and the Redirect URI are entered exactly in Nylas for the correct region”:",
        connectorPatchExample(apiUri, {
          clientId: "<Application (client) ID>",
          tenant: connector.tenant ?? "common",
        }),
      ].join("\n"),
      sources("seed000", "seed002"),
      details,
    );
  }
  if (connector.tenant === undefined) {
    return problem(
      "warn",
      `The Microsoft connector (client_id ${connector.clientId}) has no tenant.`,
      [
        'Seed 002: “Use tenant: "common" to allow authentication for accounts that are outside of your organization.” For an app used only by your organisation, use your Directory (tenant) ID instead.',
        connectorPatchExample(apiUri, { clientId: connector.clientId, tenant: "common" }),
      ].join("\n"),
      sources("seed002"),
      details,
    );
  }
  return pass(
    `Microsoft connector${connector.name ? ` "${connector.name}"` : ""}: client_id ${connector.clientId}, tenant ${connector.tenant}, ${connector.scope.length} scope${connector.scope.length === 1 ? "" : "s"}.`,
    details,
  );
}

const AUDIENCE_LABEL: Record<string, string> = {
  AzureADMyOrg: "Accounts in this organizational directory only",
  AzureADMultipleOrgs: "Accounts in any organizational directory",
  AzureADandPersonalMicrosoftAccount:
    "Accounts in any organizational directory and personal Microsoft accounts",
  PersonalMicrosoftAccount: "Personal Microsoft accounts only",
};

const label = (audience: string) => `${audience} (“${AUDIENCE_LABEL[audience] ?? audience}”)`;

/**
 * connector.audience: the connector's tenant and the app's supported account
 * types agree. `common` (seed 002's tip) lets any organisation's users — and
 * personal accounts — sign in, which only a multi-tenant app allows.
 */
export async function checkConnectorAudience(ctx: DoctorContext): Promise<CheckOutcome> {
  const connector = await ctx.needConnector();
  if (connector.tenant === undefined)
    throw new SkipCheck("the connector has no tenant (see connector.present).");
  const app = await ctx.needApp();
  const audience = app.signInAudience ?? "AzureADMyOrg";
  const tenant = connector.tenant.toLowerCase();
  const homeTenant = ctx.config.azure.tenantId;
  const orgs = audience === "AzureADMultipleOrgs" || audience === "AzureADandPersonalMicrosoftAccount";
  const personal =
    audience === "AzureADandPersonalMicrosoftAccount" || audience === "PersonalMicrosoftAccount";
  const details = { tenant: connector.tenant, signInAudience: audience, homeTenant };
  const setAudience = (to: string) =>
    `In the Azure portal → App registrations → ${app.displayName ?? app.appId} → Authentication → Supported account types, choose “${AUDIENCE_LABEL[to]}” (manifest: "signInAudience": "${to}"). Seed 002: “Set the audience for the app to Accounts in any organizational directory and personal Microsoft accounts. This allows end users to log in using any Microsoft account.”`;
  const orUseHomeTenant = `Or, for an internal app (“used only by members of your organization”, seed 002), keep the audience and set the connector's tenant to your tenant ID ${homeTenant}.`;

  if (tenant === "common" || tenant === "organizations") {
    if (!orgs) {
      return problem(
        "fail",
        `The connector signs users in through "${connector.tenant}" (any organisation${tenant === "common" ? " and personal accounts" : ""}), but the app's audience is ${label(audience)}: users outside ${audience === "AzureADMyOrg" ? "your tenant" : "personal accounts"} cannot sign in.`,
        [setAudience("AzureADandPersonalMicrosoftAccount"), orUseHomeTenant].join("\n"),
        sources("seed002"),
        details,
      );
    }
    if (tenant === "common" && !personal) {
      return pass(
        `tenant "common" with audience ${label(audience)}: any organisation's users can sign in; personal Microsoft accounts (outlook.com) cannot — if those users sign in, choose “${AUDIENCE_LABEL.AzureADandPersonalMicrosoftAccount}”.`,
        details,
      );
    }
    return pass(`tenant "${connector.tenant}" with audience ${label(audience)}: they agree.`, details);
  }
  if (tenant === "consumers") {
    if (!personal) {
      return problem(
        "fail",
        `The connector signs in personal Microsoft accounts ("consumers"), but the app's audience is ${label(audience)}.`,
        setAudience("AzureADandPersonalMicrosoftAccount"),
        sources("seed002"),
        details,
      );
    }
    return pass(`tenant "consumers" with audience ${label(audience)}: they agree.`, details);
  }
  if (audience === "PersonalMicrosoftAccount") {
    return problem(
      "fail",
      `The connector signs users into tenant ${connector.tenant}, but the app accepts personal Microsoft accounts only.`,
      setAudience("AzureADandPersonalMicrosoftAccount"),
      sources("seed002"),
      details,
    );
  }
  const isHome = tenant === homeTenant.toLowerCase();
  if (isHome || orgs) {
    return pass(
      `tenant ${connector.tenant}${isHome ? " (the app's home tenant)" : ""} with audience ${label(audience)}: they agree.`,
      details,
    );
  }
  const comparable = /^[0-9a-f-]{36}$/i.test(tenant) && /^[0-9a-f-]{36}$/i.test(homeTenant);
  return problem(
    comparable ? "fail" : "warn",
    comparable
      ? `The connector signs users into tenant ${connector.tenant}, but the app is single-tenant (${label(audience)}) in AZURE_TENANT_ID ${homeTenant}: those users cannot sign in.`
      : `The connector's tenant "${connector.tenant}" may not be the app's home tenant ${homeTenant}, and the app is single-tenant (${label(audience)}).`,
    [
      `If ${connector.tenant} is not the tenant that owns the app, either make the app multi-tenant or point the connector at ${homeTenant}.`,
      setAudience("AzureADandPersonalMicrosoftAccount"),
    ].join("\n"),
    sources("seed002"),
    details,
  );
}
