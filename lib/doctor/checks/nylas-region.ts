import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { REGION_LABEL, nylasCallbackFor, regionOf } from "../nylas-regions.js";
import { sources } from "../sources.js";

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
    return problem(
      "fail",
      `Nylas refused NYLAS_API_KEY (401) at ${probe.tried.join(" and ")}: the key is wrong or revoked in every region.`,
      [
        "Seed 003: “Your API key may have been rotated, or you may be using a key from a different Nylas application. Verify the key in the Nylas Dashboard under API Keys.”",
        "Create an API key for the application that holds the Microsoft connector (Nylas Dashboard → API Keys) and set NYLAS_API_KEY to it.",
      ].join("\n"),
      sources("seed003"),
      { tried: probe.tried, requestId: probe.error.requestId },
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
      "Seed 003: “If your Nylas application is provisioned in the EU region, use api.eu.nylas.com instead of api.us.nylas.com. Using the wrong regional endpoint always returns a 401.”",
      `The Azure app's Web redirect URI must be the same region's callback, ${nylasCallbackFor(probe.apiUri)} (see app.redirect-uri). The rest of this report used ${probe.apiUri}.`,
    ].join("\n"),
    sources("seed003", "nylasRegions"),
    { apiUri: configured, worksAt: probe.apiUri, region: probe.region ?? null },
  );
}
