/** Every doctor check, in report order (the order of CHECK_IDS). */
import type { CheckId, CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { checkAppFound, checkAppPermission } from "./app.js";
import { checkAdminConsent } from "./consent.js";
import { checkConnectorAudience, checkConnectorPresent } from "./connector.js";
import { checkGrantScopes } from "./grants.js";
import { checkNylasRegion } from "./nylas-region.js";
import { checkRedirectUri } from "./redirect-uri.js";
import { checkScopes } from "./scopes.js";
import { checkSecrets } from "./secrets.js";
import { checkRotationSafety } from "./rotation-safety.js";
import { checkSettings } from "./settings.js";
import { checkV2Leftovers } from "./v2-leftovers.js";
import { checkWebhook } from "./webhook.js";

export interface CheckDefinition {
  id: CheckId;
  title: string;
  run(ctx: DoctorContext): Promise<CheckOutcome>;
}

export const CHECKS: readonly CheckDefinition[] = [
  { id: "nylas.region", title: "Nylas API key and region", run: checkNylasRegion },
  { id: "connector.present", title: "Microsoft connector", run: checkConnectorPresent },
  { id: "app.found", title: "App registration", run: checkAppFound },
  {
    id: "connector.audience",
    title: "Connector tenant vs. supported account types",
    run: checkConnectorAudience,
  },
  { id: "app.permission", title: "Watchdog may rotate the app's secrets", run: checkAppPermission },
  { id: "app.redirect-uri", title: "Redirect URI", run: checkRedirectUri },
  { id: "secrets.live", title: "Client secrets", run: checkSecrets },
  {
    id: "rotation.safety",
    title: "Rotation safety: ownership, keys in doubt, sign-in evidence",
    run: checkRotationSafety,
  },
  { id: "scopes.required", title: "Connector scopes", run: checkScopes },
  { id: "consent.admin", title: "Admin consent", run: checkAdminConsent },
  { id: "grants.scopes", title: "Grants behind the connector's scopes", run: checkGrantScopes },
  { id: "webhook.subscription", title: "Nylas webhook", run: checkWebhook },
  { id: "app.v2-leftovers", title: "Nylas v2 leftovers", run: checkV2Leftovers },
  { id: "settings.sanity", title: "Settings", run: checkSettings },
];
