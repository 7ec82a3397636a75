/**
 * Nylas data residency: an application lives in one region, and the other
 * region's API answers 401 to its API key ("Using the wrong regional endpoint
 * always returns a 401", seed 003). The Azure app's redirect URI is the hosted
 * auth callback of that same region (seed 002).
 */

export type NylasRegionName = "us" | "eu";

export type NylasRegionUrls = Record<NylasRegionName, string>;

export const NYLAS_REGIONS: NylasRegionUrls = {
  us: "https://api.us.nylas.com",
  eu: "https://api.eu.nylas.com",
};

export const REGION_LABEL: Record<NylasRegionName, string> = { us: "US", eu: "EU" };

const strip = (url: string) => url.replace(/\/+$/, "").toLowerCase();

/** Which region a base URL is, among `regions`; undefined for any other host. */
export function regionOf(
  apiUri: string,
  regions: NylasRegionUrls = NYLAS_REGIONS,
): NylasRegionName | undefined {
  const u = strip(apiUri);
  if (u === strip(regions.us)) return "us";
  if (u === strip(regions.eu)) return "eu";
  return undefined;
}

/** The hosted-auth callback Nylas sends Microsoft for an application served from `apiUri`. */
export function nylasCallbackFor(apiUri: string): string {
  return `${apiUri.replace(/\/+$/, "")}/v3/connect/callback`;
}

/** Every v3 callback of the real regions, for "registered for the other region" diagnoses. */
export function knownCallbacks(regions: NylasRegionUrls = NYLAS_REGIONS): Record<NylasRegionName, string> {
  return { us: nylasCallbackFor(regions.us), eu: nylasCallbackFor(regions.eu) };
}

/**
 * A Nylas v2 hosted-auth callback (`https://api.nylas.com/oauth/callback`,
 * `https://ireland.api.nylas.com/oauth/callback`): a redirect URI left over
 * from a v2 Azure app.
 */
export function isNylasV2Callback(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return /(^|\.)nylas\.com$/i.test(url.hostname) && !url.pathname.startsWith("/v3/");
}
