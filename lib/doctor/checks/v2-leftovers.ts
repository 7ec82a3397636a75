import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { EXCHANGE_APP_ID, LEGACY_SCOPES, REQUIRED_SCOPES } from "../../microsoft/identifiers.js";
import { isNylasV2Callback, knownCallbacks, nylasCallbackFor } from "../nylas-regions.js";
import { requestedPermissions } from "../requested-permissions.js";
import { cite, sources } from "../sources.js";
import { effectiveNylasUri } from "./redirect-uri.js";

/**
 * app.v2-leftovers: an Azure app made for Nylas v2 (EWS/EAS permissions, the
 * v2 `/oauth/callback` redirect URI) is "not compatible with v3" (seed 002);
 * it needs a new registration, not an edit.
 */
export async function checkV2Leftovers(ctx: DoctorContext): Promise<CheckOutcome> {
  const app = await ctx.needApp();
  const appName = app.displayName ?? app.appId;
  const apiUri = await effectiveNylasUri(ctx);
  const expected = nylasCallbackFor(apiUri);
  const requested = await requestedPermissions(ctx, app);
  const legacy = [
    ...new Set(
      requested
        .filter(
          (p) =>
            (p.name !== undefined && LEGACY_SCOPES.has(p.name.toLowerCase())) ||
            (p.resourceAppId === EXCHANGE_APP_ID && p.type === "Scope"),
        )
        .map((p) => p.name ?? `${p.id} (Office 365 Exchange Online)`),
    ),
  ];
  const web = app.web?.redirectUris ?? [];
  const v3 = new Set(
    [expected, ...Object.values(knownCallbacks(ctx.regions))].map((u) => u.replace(/\/+$/, "")),
  );
  const v2Uris = web.filter(isNylasV2Callback);
  const hasV3 = web.some((u) => v3.has(u.replace(/\/+$/, "")));
  const onlyV2Redirect = v2Uris.length > 0 && !hasV3;
  const details = { legacyPermissions: legacy, v2RedirectUris: v2Uris };

  if (legacy.length === 0 && !onlyV2Redirect) {
    return pass(
      v2Uris.length > 0
        ? `No EWS/EAS permissions; a Nylas v2 redirect URI (${v2Uris.join(", ")}) remains beside the v3 callback — harmless, remove it once v2 is gone.`
        : "No Nylas v2 leftovers (EWS/EAS permissions or v2 redirect URIs).",
      details,
    );
  }
  const found = [
    ...(legacy.length > 0 ? [`requests ${legacy.join(", ")}`] : []),
    ...(onlyV2Redirect ? [`has only the Nylas v2 redirect URI ${v2Uris.join(", ")}`] : []),
  ];
  return problem(
    "fail",
    `"${appName}" looks like a Nylas v2 Azure app: it ${found.join(" and ")}.`,
    [
      `${cite.nylasCreateAzureApp}: “If you're upgrading from Nylas v2 to v3, you must create a new Azure auth app. Your v2 Azure app is not compatible with v3”; editing it fails with “One or more of the following permission(s) are currently not supported: EWS.AccessAsUser.All. Please remove these permission(s) and retry your request.”`,
      `1. Azure portal → App registrations → New registration; supported account types “Accounts in any organizational directory and personal Microsoft accounts”; redirect URI platform Web: ${expected}.`,
      `2. API permissions → Add a permission → Microsoft Graph → Delegated: ${REQUIRED_SCOPES.join(", ")} plus the connector's other scopes (no EWS/EAS); Grant admin consent.`,
      "3. Certificates & secrets → New client secret; copy its Value (shown once).",
      `4. Put the new app into the connector: PATCH ${apiUri}/v3/connectors/microsoft {"settings":{"client_id":"<new Application (client) ID>","client_secret":"<Value>","tenant":"common"}}.`,
      "5. Make the watchdog an owner of the new app (see app.permission).",
      `${cite.nylasCreateAzureApp}: “When you migrate your end users to the new auth app, they must re-authenticate their accounts and approve the app.”`,
    ].join("\n"),
    sources("nylasCreateAzureApp", "nylasV2MicrosoftAuth"),
    details,
  );
}
