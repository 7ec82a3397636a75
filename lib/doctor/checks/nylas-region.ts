import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { REGION_LABEL, nylasCallbackFor, regionOf } from "../nylas-regions.js";
import { cite, sources } from "../sources.js";

/**
 * nylas.region: the API key works against NYLAS_API_URI. "Using the wrong
 * regional endpoint always returns a 401" (seed 003), so on 401 the other
 * region is tried before blaming the key.
 */
export async function checkNylasRegion(ctx: DoctorContext): Promise<CheckOutcome> {
  const configured = ctx.config.nylas.apiUri;
  const probe = await ctx.nylasProbe();
  if (probe.kind === "error") throw probe.error;
  if (probe.kind === "refused") {
    const where = probe.probedRegions
      ? `at ${probe.tried.join(" and ")}: the key is wrong or revoked${probe.unreachable.length === 0 ? " in every region" : ""}`
      : `at ${configured}: the key is wrong or revoked, or the application lives in the other region`;
    return problem(
      "fail",
      `Nylas refused NYLAS_API_KEY (401) ${where}.${probe.unreachable.length > 0 ? ` Not reached (no verdict): ${probe.unreachable.join(", ")}.` : ""}`,
      [
        `${cite.nylasAuthTroubleshooting}: “Your API key may have been rotated, or you may be using a key from a different Nylas application. Verify the key in the Nylas Dashboard under API Keys.”`,
        "Create an API key for the application that holds the Microsoft connector (Nylas Dashboard → API Keys) and set NYLAS_API_KEY to it.",
        ...(probe.probedRegions
          ? []
          : [
              "Nylas docs, v3 authentication troubleshooting (https://developer.nylas.com/docs/v3/auth/troubleshooting/): “Using the wrong regional endpoint always returns a 401.” To check whether the key works in the other region, run `watchdog doctor --probe-regions` (it then sends the key to the other public region's API too).",
            ]),
      ].join("\n"),
      sources("nylasAuthTroubleshooting"),
      { tried: probe.tried, unreachable: probe.unreachable, requestId: probe.error.requestId },
    );
  }
  const configuredRegion = regionOf(configured, ctx.regions);
  if (probe.where === "configured") {
    return pass(
      `NYLAS_API_KEY works against ${configured}${configuredRegion ? ` (${REGION_LABEL[configuredRegion]} region)` : ""}.`,
      { apiUri: configured, region: configuredRegion ?? null },
    );
  }
  const label = probe.region ? REGION_LABEL[probe.region] : probe.apiUri;
  return problem(
    "fail",
    `NYLAS_API_URI=${configured} answers 401, but the API key works against ${probe.apiUri}: your application lives in ${label}.`,
    [
      `NYLAS_API_URI points at the wrong region — your application lives in ${label}: set NYLAS_API_URI=${probe.apiUri}`,
      `${cite.nylasAuthTroubleshooting}: “If your Nylas application is provisioned in the EU region, use api.eu.nylas.com instead of api.us.nylas.com. Using the wrong regional endpoint always returns a 401.”`,
      `The Azure app's Web redirect URI must be the same region's callback, ${nylasCallbackFor(probe.apiUri)} (see app.redirect-uri). The rest of this report used ${probe.apiUri}.`,
    ].join("\n"),
    sources("nylasAuthTroubleshooting", "nylasRegions"),
    { apiUri: configured, worksAt: probe.apiUri, region: probe.region ?? null },
  );
}
