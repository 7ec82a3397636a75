import { SkipCheck, pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { REQUIRED_SCOPES } from "../../microsoft/identifiers.js";
import { cite, sources } from "../sources.js";

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
        `Add the Microsoft connector with the Azure app's client ID and secret value (${cite.nylasCreateAzureApp}, section “Add Microsoft connector to Nylas”):`,
        `curl -X POST ${apiUri}/v3/connectors -H "Authorization: Bearer $NYLAS_API_KEY" -H "Content-Type: application/json" ` +
          `-d '{"name":"microsoft","provider":"microsoft","settings":{"client_id":"<AZURE_CLIENT_ID>","client_secret":"<AZURE_CLIENT_SECRET>","tenant":"common"},"scope":${JSON.stringify(REQUIRED_SCOPES)}}'`,
      ].join("\n"),
      sources("nylasCreateAzureApp"),
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
        `Set the Azure app's Application (client) ID (App registrations → your app → Overview) in the connector — ${cite.nylasForum45001}: “ensure the Application (client) ID, the Client Secret Value, and the Redirect URI are entered exactly in Nylas for the correct region”:`,
        connectorPatchExample(apiUri, {
          clientId: "<Application (client) ID>",
          tenant: connector.tenant ?? "common",
        }),
      ].join("\n"),
      sources("nylasForum45001", "nylasCreateAzureApp"),
      details,
    );
  }
  if (connector.tenant === undefined) {
    return problem(
      "warn",
      `The Microsoft connector (client_id ${connector.clientId}) has no tenant.`,
      [
        `${cite.nylasCreateAzureApp}: “Use tenant: "common" to allow authentication for accounts that are outside of your organization.” For an app used only by your organisation, use your Directory (tenant) ID instead.`,
        connectorPatchExample(apiUri, { clientId: connector.clientId, tenant: "common" }),
      ].join("\n"),
      sources("nylasCreateAzureApp"),
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

/** The connector's tenant beside the app's audience, and the fixes that make them agree. */
interface AudienceView {
  /** The connector's tenant as set; `tenant` is its lower case. */
  connectorTenant: string;
  tenant: string;
  audience: string;
  homeTenant: string;
  /** The audience lets users of any organisation sign in. */
  orgs: boolean;
  /** The audience lets personal Microsoft accounts sign in. */
  personal: boolean;
  details: Record<string, unknown>;
  setAudience: (to: string) => string;
  orUseHomeTenant: string;
}

/** tenant "common" or "organizations": a multi-tenant audience is needed. */
function broadTenantVerdict(v: AudienceView): CheckOutcome {
  const { tenant, audience } = v;
  if (!v.orgs) {
    return problem(
      "fail",
      `The connector signs users in through "${v.connectorTenant}" (any organisation${tenant === "common" ? " and personal accounts" : ""}), but the app's audience is ${label(audience)}: users outside ${audience === "AzureADMyOrg" ? "your tenant" : "personal accounts"} cannot sign in.`,
      [v.setAudience("AzureADandPersonalMicrosoftAccount"), v.orUseHomeTenant].join("\n"),
      sources("nylasCreateAzureApp"),
      v.details,
    );
  }
  if (tenant === "common" && !v.personal) {
    return pass(
      `tenant "common" with audience ${label(audience)}: any organisation's users can sign in; personal Microsoft accounts (outlook.com) cannot — if those users sign in, choose “${AUDIENCE_LABEL.AzureADandPersonalMicrosoftAccount}”.`,
      v.details,
    );
  }
  return pass(`tenant "${v.connectorTenant}" with audience ${label(audience)}: they agree.`, v.details);
}

/** A tenant id or domain: the app's home tenant, or a multi-tenant app. */
function namedTenantVerdict(v: AudienceView): CheckOutcome {
  const { tenant, audience, homeTenant, connectorTenant } = v;
  const isHome = tenant === homeTenant.toLowerCase();
  if (isHome || v.orgs) {
    return pass(
      `tenant ${connectorTenant}${isHome ? " (the app's home tenant)" : ""} with audience ${label(audience)}: they agree.`,
      v.details,
    );
  }
  const comparable = /^[0-9a-f-]{36}$/i.test(tenant) && /^[0-9a-f-]{36}$/i.test(homeTenant);
  return problem(
    comparable ? "fail" : "warn",
    comparable
      ? `The connector signs users into tenant ${connectorTenant}, but the app is single-tenant (${label(audience)}) in AZURE_TENANT_ID ${homeTenant}: those users cannot sign in.`
      : `The connector's tenant "${connectorTenant}" may not be the app's home tenant ${homeTenant}, and the app is single-tenant (${label(audience)}).`,
    [
      `If ${connectorTenant} is not the tenant that owns the app, either make the app multi-tenant or point the connector at ${homeTenant}.`,
      v.setAudience("AzureADandPersonalMicrosoftAccount"),
    ].join("\n"),
    sources("nylasCreateAzureApp"),
    v.details,
  );
}

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
  const homeTenant = ctx.config.azure.tenantId;
  const v: AudienceView = {
    connectorTenant: connector.tenant,
    tenant: connector.tenant.toLowerCase(),
    audience,
    homeTenant,
    orgs: audience === "AzureADMultipleOrgs" || audience === "AzureADandPersonalMicrosoftAccount",
    personal: audience === "AzureADandPersonalMicrosoftAccount" || audience === "PersonalMicrosoftAccount",
    details: { tenant: connector.tenant, signInAudience: audience, homeTenant },
    setAudience: (to: string) =>
      `In the Azure portal → App registrations → ${app.displayName ?? app.appId} → Authentication → Supported account types, choose “${AUDIENCE_LABEL[to]}” (manifest: "signInAudience": "${to}"). ${cite.nylasCreateAzureApp}: “Set the audience for the app to Accounts in any organizational directory and personal Microsoft accounts. This allows end users to log in using any Microsoft account.”`,
    orUseHomeTenant: `Or, for an internal app (“used only by members of your organization”, ${cite.nylasCreateAzureApp}), keep the audience and set the connector's tenant to your tenant ID ${homeTenant}.`,
  };

  if (v.tenant === "common" || v.tenant === "organizations") return broadTenantVerdict(v);
  if (v.tenant === "consumers") {
    if (!v.personal) {
      return problem(
        "fail",
        `The connector signs in personal Microsoft accounts ("consumers"), but the app's audience is ${label(audience)}.`,
        v.setAudience("AzureADandPersonalMicrosoftAccount"),
        sources("nylasCreateAzureApp"),
        v.details,
      );
    }
    return pass(`tenant "consumers" with audience ${label(audience)}: they agree.`, v.details);
  }
  if (audience === "PersonalMicrosoftAccount") {
    return problem(
      "fail",
      `The connector signs users into tenant ${connector.tenant}, but the app accepts personal Microsoft accounts only.`,
      v.setAudience("AzureADandPersonalMicrosoftAccount"),
      sources("nylasCreateAzureApp"),
      v.details,
    );
  }
  return namedTenantVerdict(v);
}
