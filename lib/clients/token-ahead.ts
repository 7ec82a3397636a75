/**
 * The Graph token asked for as soon as the credential exists, not when the
 * first Graph request needs it.
 *
 * Why: the first token is a round trip or two to Entra (MSAL reads the
 * authority's metadata, then posts the token request), and without this it is
 * asked for only when the first Graph request needs it, after the Graph SDK has
 * loaded. Asked for ahead, MSAL's own steps before its first request run among
 * the loading's. The request itself still leaves only once the Graph SDK (and,
 * in a scan, Nylas's) has loaded: under strace, about 30 ms after this call
 * (2026-12-01). With the scan's other overlaps (lib/watch/scan.ts), a scan of
 * the base tenant went from 433 to 422 ms (median of 15 alternating runs,
 * 2026-12-01). Waiting a turn of the event loop before loading the SDK got the
 * request out 17 ms sooner but the scan no faster, so there is no such wait.
 *
 * While that request is in flight, a caller asking for the same scope with no
 * options gets the same promise: one token request, not two, and its failure
 * reaches that caller exactly as its own call would have. Once it has settled,
 * every call goes to the credential (MSAL answers from its cache). Nothing else
 * changes: other scopes and calls with options go straight through.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";

export function tokenAhead(credential: TokenCredential, scope: string): TokenCredential {
  let ahead: Promise<AccessToken | null> | undefined = credential.getToken(scope).finally(() => {
    ahead = undefined;
  });
  // Nobody may ask before it settles; its failure is then reported by the next call's own request.
  ahead.catch(() => undefined);
  return {
    getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const same = (Array.isArray(scopes) ? scopes : [scopes]).join(" ") === scope;
      const plain = options === undefined || Object.keys(options).length === 0;
      return ahead !== undefined && same && plain ? ahead : credential.getToken(scopes, options);
    },
  };
}
