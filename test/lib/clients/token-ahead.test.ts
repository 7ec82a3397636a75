import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { tokenAhead } from "../../../lib/clients/token-ahead.js";

const SCOPE = "https://graph.microsoft.com/.default";
const token = (value: string): AccessToken => ({ token: value, expiresOnTimestamp: Date.now() + 3_600_000 });

/** A credential whose every getToken is held until the test answers it. */
function heldCredential() {
  const calls: {
    scopes: string | string[];
    options?: GetTokenOptions;
    answer: (t: AccessToken) => void;
    fail: (e: Error) => void;
  }[] = [];
  const credential: TokenCredential = {
    getToken: (scopes, options) =>
      new Promise<AccessToken | null>((resolve, reject) => {
        calls.push({ scopes, ...(options === undefined ? {} : { options }), answer: resolve, fail: reject });
      }),
  };
  return { credential, calls };
}

describe("tokenAhead", () => {
  it("asks for the scope's token at once, and a caller during that request shares it", async () => {
    const { credential, calls } = heldCredential();
    const ahead = tokenAhead(credential, SCOPE);
    expect(calls.map((c) => c.scopes)).toEqual([SCOPE]);

    const first = ahead.getToken([SCOPE]);
    const second = ahead.getToken(SCOPE, {});
    expect(calls).toHaveLength(1);
    calls[0]!.answer(token("t1"));
    expect((await first)?.token).toBe("t1");
    expect((await second)?.token).toBe("t1");
  });

  it("goes to the credential once the early request has settled", async () => {
    const { credential, calls } = heldCredential();
    const ahead = tokenAhead(credential, SCOPE);
    calls[0]!.answer(token("t1"));
    await new Promise((resolve) => setImmediate(resolve));

    const later = ahead.getToken([SCOPE]);
    expect(calls).toHaveLength(2);
    calls[1]!.answer(token("t2"));
    expect((await later)?.token).toBe("t2");
  });

  it("sends another scope, or a call with options, to the credential as it is", () => {
    const { credential, calls } = heldCredential();
    const ahead = tokenAhead(credential, SCOPE);
    const signal = new AbortController().signal;
    void ahead.getToken("https://management.azure.com/.default");
    void ahead.getToken([SCOPE], { claims: "{}" });
    void ahead.getToken([SCOPE], { abortSignal: signal });
    expect(calls.map((c) => [c.scopes, c.options])).toEqual([
      [SCOPE, undefined],
      ["https://management.azure.com/.default", undefined],
      [[SCOPE], { claims: "{}" }],
      [[SCOPE], { abortSignal: signal }],
    ]);
  });

  it("hands the early request's failure to the caller that shared it, and none to the process", async () => {
    const { credential, calls } = heldCredential();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const ahead = tokenAhead(credential, SCOPE);
      const shared = ahead.getToken([SCOPE]);
      calls[0]!.fail(new Error("AADSTS7000215: Invalid client secret provided."));
      await expect(shared).rejects.toThrow("AADSTS7000215");

      // Failed with nobody waiting: nothing unhandled, and the next call asks again.
      const quiet = tokenAhead(credential, SCOPE);
      calls[1]!.fail(new Error("AADSTS7000215: Invalid client secret provided."));
      await new Promise((resolve) => setTimeout(resolve, 10));
      void quiet.getToken([SCOPE]).catch(() => undefined);
      expect(calls).toHaveLength(3);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
