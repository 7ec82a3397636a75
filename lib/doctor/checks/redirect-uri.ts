import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import {
  REGION_LABEL,
  knownCallbacks,
  nylasCallbackFor,
  regionOf,
  type NylasRegionName,
} from "../nylas-regions.js";
import { cite, sources } from "../sources.js";

const norm = (uri: string) => uri.trim().replace(/\/+$/, "");

/** The Nylas base URL sign-ins really go through: the region that accepted the key, else NYLAS_API_URI. */
export async function effectiveNylasUri(ctx: DoctorContext): Promise<string> {
  const probe = await ctx.nylasProbe().catch(() => undefined);
  return probe?.kind === "ok" ? probe.apiUri : ctx.config.nylas.apiUri;
}

/**
 * app.redirect-uri: the app's Web platform lists Nylas' hosted-auth callback of
 * the application's region (seed 002). Registered under SPA or mobile/desktop
 * instead, or for the other region, Microsoft refuses the sign-in (AADSTS50011
 * for a missing reply URL).
 */
export async function checkRedirectUri(ctx: DoctorContext): Promise<CheckOutcome> {
  const app = await ctx.needApp();
  const apiUri = await effectiveNylasUri(ctx);
  const expected = nylasCallbackFor(apiUri);
  const region = regionOf(apiUri, ctx.regions);
  const web = (app.web?.redirectUris ?? []).map(norm);
  const spa = (app.spa?.redirectUris ?? []).map(norm);
  const publicClient = (app.publicClient?.redirectUris ?? []).map(norm);
  const appName = app.displayName ?? app.appId;
  const details = { expected, web, spa, publicClient };
  const addToWeb = `Azure portal → App registrations → ${appName} → Authentication → Add a platform → Web → redirect URI ${expected}. ${cite.nylasCreateAzureApp}: “Set the Redirect URI platform to Web and enter your redirect URI.”`;

  if (web.includes(expected)) return pass(`The Web platform lists the Nylas callback ${expected}.`, details);

  const platform = spa.includes(expected)
    ? "Single-page application"
    : publicClient.includes(expected)
      ? "Mobile and desktop applications"
      : undefined;
  if (platform !== undefined) {
    return problem(
      "fail",
      `The Nylas callback ${expected} is registered under the ${platform} platform, not Web: Nylas redeems the code on its server with the client secret, which only a Web redirect URI allows.`,
      [
        `Remove ${expected} from “${platform}” and add it under Web.`,
        addToWeb,
        `${cite.nylasForum45001}: ensure “the Redirect URI [is] entered exactly … for the correct region”, then have the user sign in again.`,
      ].join("\n"),
      sources("nylasCreateAzureApp", "nylasForum45001"),
      details,
    );
  }

  const others = knownCallbacks(ctx.regions);
  const wrong = (Object.keys(others) as NylasRegionName[]).find(
    (r) => r !== region && web.includes(norm(others[r])),
  );
  if (wrong !== undefined) {
    return problem(
      "fail",
      `The Web platform lists the ${REGION_LABEL[wrong]} callback ${others[wrong]}, but your Nylas application lives in ${region ? REGION_LABEL[region] : apiUri}: Microsoft refuses the sign-in (AADSTS50011, reply URL mismatch).`,
      [
        addToWeb,
        `Remove ${others[wrong]} unless another Nylas application in that region uses this app.`,
        `${cite.nylasForum45001}: “ensure the Application (client) ID, the Client Secret Value, and the Redirect URI are entered exactly in Nylas for the correct region.”`,
      ].join("\n"),
      sources("nylasForum45001", "nylasCreateAzureApp"),
      details,
    );
  }
  return problem(
    "fail",
    `The app's Web platform does not list the Nylas callback ${expected}: Microsoft refuses hosted sign-ins (AADSTS50011, reply URL mismatch).`,
    [
      addToWeb,
      `${cite.nylasCreateAzureApp} lists the callback per region: US https://api.us.nylas.com/v3/connect/callback, EU https://api.eu.nylas.com/v3/connect/callback.`,
    ].join("\n"),
    sources("nylasCreateAzureApp", "entraErrors"),
    details,
  );
}
