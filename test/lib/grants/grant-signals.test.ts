/**
 * What an invalid-grant incident says: who, which provider, when it last
 * worked, the likely causes (an expired connector secret first when the watch
 * pass saw one), and a hosted-auth re-auth link only when both
 * NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI are set.
 */
import { describe, expect, it } from "vitest";
import type { Config } from "../../../lib/config.js";
import { grantIncidentKey, invalidGrantSignal } from "../../../lib/grants/grant-signals.js";
import { reauthLink } from "../../../lib/microsoft/reauth-link.js";
import NylasModule from "nylas";

// The SDK's typings describe its CommonJS face; at run time the ESM default is the class itself.
type NylasCtor = typeof NylasModule.default;
const exported = NylasModule as unknown as NylasCtor | { default: NylasCtor };
const Nylas: NylasCtor = "default" in exported ? exported.default : exported;

const nylas: Config["nylas"] = {
  apiKey: "k",
  apiUri: "https://api.eu.nylas.com",
  webhookSecret: undefined,
  webhookPublicUrl: undefined,
  clientId: "app-123",
  reauthRedirectUri: "https://app.example.com/callback",
};

describe("reauthLink", () => {
  it("is the hosted-auth URL of the app's region with provider=microsoft and login_hint", () => {
    const url = new URL(reauthLink(nylas, "ana+test@contoso.com")!);
    expect(`${url.origin}${url.pathname}`).toBe("https://api.eu.nylas.com/v3/connect/auth");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "app-123",
      redirect_uri: "https://app.example.com/callback",
      // The SDK always names it; Nylas' default, and the simulator ignores it.
      access_type: "online",
      response_type: "code",
      provider: "microsoft",
      login_hint: "ana+test@contoso.com",
    });
  });

  it("keeps the path whole behind an API root written with a trailing slash, and names no login_hint without an email", () => {
    const url = new URL(reauthLink({ ...nylas, apiUri: "https://api.eu.nylas.com/" }, undefined)!);
    expect(`${url.origin}${url.pathname}`).toBe("https://api.eu.nylas.com/v3/connect/auth");
    expect(url.searchParams.has("login_hint")).toBe(false);
    expect(url.searchParams.get("provider")).toBe("microsoft");
  });

  it("is the link the Nylas SDK's auth.urlForOAuth2 builds, parameter for parameter", () => {
    for (const [apiUri, email] of [
      ["https://api.us.nylas.com", "ana+test@contoso.com"],
      ["https://api.eu.nylas.com/", undefined],
      ["https://api.us.nylas.com", "o'brien&co@contoso.com"],
    ] as const) {
      const ours = new URL(reauthLink({ ...nylas, apiUri }, email)!);
      const sdk = new URL(
        new Nylas({ apiKey: "unused", apiUri: new URL(apiUri).origin }).auth.urlForOAuth2({
          clientId: nylas.clientId!,
          redirectUri: nylas.reauthRedirectUri!,
          provider: "microsoft",
          ...(email === undefined ? {} : { loginHint: email }),
        }),
      );
      expect(`${ours.origin}${ours.pathname}`).toBe(`${sdk.origin}${sdk.pathname}`);
      expect(Object.fromEntries([...ours.searchParams].sort())).toEqual(
        Object.fromEntries([...sdk.searchParams].sort()),
      );
    }
  });

  it("needs both NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI", () => {
    expect(reauthLink({ ...nylas, clientId: undefined }, "a@b.c")).toBeUndefined();
    expect(reauthLink({ ...nylas, reauthRedirectUri: undefined }, "a@b.c")).toBeUndefined();
  });
});

describe("invalidGrantSignal", () => {
  const facts = {
    grantId: "g-1",
    email: "ana@contoso.com",
    provider: "microsoft",
    lastWorkedAt: 1_760_000_000,
    seenBy: "webhook" as const,
  };

  it("keys by grant id (webhook and sweep raise the same incident), critical, with the facts", () => {
    const signal = invalidGrantSignal(facts, nylas);
    expect(signal.key).toBe(grantIncidentKey("g-1"));
    expect(signal.key).toBe("grant.invalid:g-1");
    expect(signal).toMatchObject({ kind: "grant.invalid", severity: "critical" });
    expect(signal.details).toMatchObject({
      grant_id: "g-1",
      email: "ana@contoso.com",
      provider: "microsoft",
      last_worked_at: new Date(1_760_000_000_000).toISOString(),
    });
    expect(signal.links).toEqual([
      { title: "Re-authenticate ana@contoso.com", url: reauthLink(nylas, "ana@contoso.com") },
    ]);
    expect(String(signal.details.likely_causes)).not.toContain("expired at");
  });

  it("names a just-expired connector secret as the first likely cause", () => {
    const signal = invalidGrantSignal(
      { ...facts, recentlyExpiredSecret: { keyId: "key-9", endDateTime: "2026-11-20T00:00:00.000Z" } },
      nylas,
    );
    expect(String(signal.details.likely_causes)).toMatch(
      /^1\. The Azure client secret key-9 expired at 2026-11-20T00:00:00.000Z/,
    );
  });

  it("without the link settings: no link, and the remediation says which settings give one", () => {
    const signal = invalidGrantSignal(facts, { ...nylas, clientId: undefined, reauthRedirectUri: undefined });
    expect(signal.links).toEqual([]);
    expect(signal.remediation[0]).toContain("NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI");
  });

  it("non-Microsoft grants get no Microsoft re-auth link", () => {
    expect(invalidGrantSignal({ ...facts, provider: "google" }, nylas).links).toEqual([]);
  });
});

describe("a late grant.expired", () => {
  it("is ignored when Nylas says the grant re-authenticated after the event; raised when Nylas cannot say", async () => {
    const { processGrantEvent } = await import("../../../lib/grants/process-grant-event.js");
    const { loadConfig } = await import("../../../lib/config.js");
    const { ManualClock } = await import("../../../lib/clock.js");
    const { silentLogger } = await import("../../../lib/logger.js");
    const raised: string[] = [];
    const now = Math.floor(Date.UTC(2026, 10, 23) / 1000);
    const deps = (grant: unknown) => ({
      config: loadConfig({
        NYLAS_API_KEY: "nyk_test",
        AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      }),
      clock: new ManualClock(),
      logger: silentLogger,
      store: { get: () => Promise.resolve(undefined) } as never,
      incidents: {
        raise: (s: { key: string }) => Promise.resolve(void raised.push(s.key)),
        resolve: () => Promise.resolve(),
        get: () => Promise.resolve(undefined),
      },
      nylas: {
        getGrant: () => (grant instanceof Error ? Promise.reject(grant) : Promise.resolve(grant)),
      } as never,
    });
    const event = {
      id: "n1",
      type: "grant.expired" as const,
      grantId: "g1",
      provider: "microsoft",
      email: "a@b.c",
      grantUpdatedAt: now - 100,
      time: now,
    };
    const valid = {
      id: "g1",
      provider: "microsoft",
      grantStatus: "valid",
      email: "a@b.c",
      scope: [],
      createdAt: 0,
      updatedAt: now + 60,
    };
    expect(await processGrantEvent(event, deps(valid))).toBe("stale");
    expect(raised).toEqual([]);
    expect(await processGrantEvent(event, deps({ ...valid, updatedAt: now - 10 }))).toBe("raised");
    expect(await processGrantEvent(event, deps(new Error("nylas down")))).toBe("raised");
    expect(raised).toEqual(["grant.invalid:g1", "grant.invalid:g1"]);
  });
});
