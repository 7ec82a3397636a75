/**
 * Access tokens the simulated Entra mints and the simulated Graph accepts.
 * They are real JWTs in shape (header.payload.signature, Entra's claim names)
 * so code that decodes a token to read `roles` or `tid` works, but they are
 * signed with an HMAC key private to one simulator: Graph trusts only tokens
 * this simulator minted, never a hand-made one.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { base64url } from "./ids.js";

/** Claims of an app-only Graph token, as Entra v1 access tokens name them. */
export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  app_displayname: string;
  appidacr: "1";
  idp: string;
  idtyp: "app";
  oid: string;
  sub: string;
  tid: string;
  roles?: string[];
  uti: string;
  ver: "1.0";
  /**
   * Wall-clock expiry (unix seconds). `exp` follows the simulator's clock, which
   * tests move by days; token caches (MSAL) follow the wall clock, so Graph
   * enforces lifetime on this claim to agree with them.
   */
  xms_sim_rexp: number;
}

/** Signs and verifies simulator tokens with a per-instance key. */
export class TokenSigner {
  readonly #key = randomBytes(32);

  sign(claims: AccessTokenClaims): string {
    const header = base64url(JSON.stringify({ typ: "JWT", alg: "HS256", kid: "sim" }));
    const payload = base64url(JSON.stringify(claims));
    return `${header}.${payload}.${this.#mac(`${header}.${payload}`)}`;
  }

  /** The claims, or why the token is refused (text in the style of Graph's messages). */
  verify(token: string, nowWallSeconds: number): { claims: AccessTokenClaims } | { error: string } {
    const parts = token.split(".");
    if (parts.length !== 3) return { error: "IDX14100: JWT is not well formed, there are no dots (.)." };
    const [header, payload, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.#mac(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return { error: "Access token validation failure. Invalid audience." };
    }
    let claims: AccessTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as AccessTokenClaims;
    } catch {
      return { error: "IDX14102: Unable to decode the payload as Base64Url encoded string." };
    }
    if (claims.xms_sim_rexp <= nowWallSeconds)
      return { error: "Lifetime validation failed, the token is expired." };
    return { claims };
  }

  #mac(input: string): string {
    return createHmac("sha256", this.#key).update(input).digest("base64url");
  }
}
