/**
 * The one retry policy (lib/clients/retry.ts): waits are asserted through the
 * injected sleep, never measured in wall time.
 */
import { describe, expect, it } from "vitest";
import { HttpError } from "../../../lib/errors.js";
import { ManualClock } from "../../../lib/clock.js";
import { httpRequest } from "../../../lib/clients/http.js";
import {
  DEFAULT_RETRY,
  MAX_WAIT_MS,
  isTransientGraph,
  isTransientSink,
  retryDelayMs,
  withRetry,
  type Sleep,
} from "../../../lib/clients/retry.js";

function recorder(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  const sleep: Sleep = (ms) => {
    waits.push(ms);
    return Promise.resolve();
  };
  return { waits, sleep };
}

const graphError = (statusCode: number, options: { retryAfterMs?: number; message?: string } = {}) =>
  new HttpError(options.message ?? `graph ${statusCode}`, {
    service: "graph",
    statusCode,
    retryAfterMs: options.retryAfterMs,
    ambiguous: statusCode === 0 || statusCode >= 500,
  });

/** A call that fails with `errors` in turn, then answers "ok"; counts its attempts. */
function failing(...errors: Error[]) {
  const state = { calls: 0 };
  const call = () => {
    const error = errors[state.calls++];
    return error ? Promise.reject(error) : Promise.resolve("ok");
  };
  return { state, call };
}

describe("retryDelayMs", () => {
  it("keeps the jitter inside [exp/2, exp] and never above the cap", () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 500, maxDelayMs: 10_000 };
    for (let attempt = 1; attempt <= 12; attempt++) {
      const exp = Math.min(policy.maxDelayMs, 500 * 2 ** (attempt - 1));
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const wait = retryDelayMs(attempt, undefined, policy, () => r);
        expect(wait).toBeGreaterThanOrEqual(exp / 2);
        expect(wait).toBeLessThanOrEqual(exp);
        expect(wait).toBeLessThanOrEqual(policy.maxDelayMs);
      }
    }
    // The jitter is real: two draws give two waits.
    expect(retryDelayMs(3, undefined, policy, () => 0)).not.toBe(retryDelayMs(3, undefined, policy, () => 1));
  });

  it("honours Retry-After exactly below the cap, and caps it at 60 s by default", () => {
    expect(retryDelayMs(1, 7_000, DEFAULT_RETRY)).toBe(7_000);
    expect(retryDelayMs(1, 3_600_000, DEFAULT_RETRY)).toBe(MAX_WAIT_MS);
    expect(MAX_WAIT_MS).toBe(60_000);
    expect(retryDelayMs(1, 3_600_000, { ...DEFAULT_RETRY, maxDelayMs: 5_000 })).toBe(5_000);
  });
});

describe("withRetry", () => {
  it("requests a wait of at most the cap for Retry-After: 3600, then succeeds", async () => {
    const { sleep, waits } = recorder();
    const { state, call } = failing(graphError(429, { retryAfterMs: 3_600_000 }));
    await expect(withRetry(call, { idempotent: true, transient: isTransientGraph, sleep })).resolves.toBe(
      "ok",
    );
    expect(state.calls).toBe(2);
    expect(waits).toEqual([60_000]);
  });

  it("the cap is injectable", async () => {
    const { sleep, waits } = recorder();
    const { call } = failing(graphError(503, { retryAfterMs: 3_600_000 }));
    await withRetry(call, {
      idempotent: true,
      transient: isTransientGraph,
      sleep,
      policy: { maxDelayMs: 1_234 },
    });
    expect(waits).toEqual([1_234]);
  });

  it("stops after maxAttempts and throws the last error", async () => {
    const { sleep, waits } = recorder();
    const errors = Array.from({ length: 10 }, () => graphError(503));
    const { state, call } = failing(...errors);
    const error = await withRetry(call, {
      idempotent: true,
      transient: isTransientGraph,
      sleep,
      policy: { maxAttempts: 3 },
    }).catch((e: unknown) => e);
    expect(error).toBe(errors[2]);
    expect(state.calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it("never replays a non-idempotent call that got no answer or an ambiguous 5xx", async () => {
    for (const status of [0, 500, 503, 504]) {
      const { sleep, waits } = recorder();
      const { state, call } = failing(graphError(status));
      await expect(
        withRetry(call, { idempotent: false, transient: isTransientGraph, sleep }),
      ).rejects.toMatchObject({
        statusCode: status,
      });
      expect(state.calls, `status ${status}`).toBe(1);
      expect(waits).toEqual([]);
    }
    // Even where the service's predicate would repeat the status, a lost answer is not replayed.
    const { state, call } = failing(
      new HttpError("reset", { service: "slack", statusCode: 0, ambiguous: true }),
    );
    await expect(
      withRetry(call, { idempotent: false, transient: () => true, sleep: recorder().sleep }),
    ).rejects.toThrow("reset");
    expect(state.calls).toBe(1);
  });

  it("repeats a non-idempotent call after a throttle (not processed), and after an ambiguous answer only once reconciled", async () => {
    const { sleep } = recorder();
    const order: string[] = [];
    const errors = [graphError(429, { retryAfterMs: 1_000 }), graphError(504)];
    let calls = 0;
    const result = await withRetry(
      () => {
        order.push(`call ${++calls}`);
        const error = errors[calls - 1];
        return error ? Promise.reject(error) : Promise.resolve("created");
      },
      {
        idempotent: false,
        transient: isTransientGraph,
        sleep,
        reconcile: (error) => {
          order.push(`reconcile after ${error.statusCode}`);
          return Promise.resolve();
        },
      },
    );
    expect(result).toBe("created");
    expect(order).toEqual(["call 1", "call 2", "reconcile after 504", "call 3"]);
  });

  it("does not retry what is not an HttpError, nor a refusal", async () => {
    const { sleep, waits } = recorder();
    const bug = failing(new TypeError("bug"));
    await expect(
      withRetry(bug.call, { idempotent: true, transient: isTransientGraph, sleep }),
    ).rejects.toThrow("bug");
    const refused = failing(graphError(403));
    await expect(
      withRetry(refused.call, { idempotent: true, transient: isTransientGraph, sleep }),
    ).rejects.toThrow();
    expect(bug.state.calls + refused.state.calls).toBe(2);
    expect(waits).toEqual([]);
  });

  it("treats Graph's 'concurrent requests' refusal as not processed, even for a write", () => {
    const concurrent = graphError(400, {
      message: "Error due to concurrent requests being made to the tenant.",
    });
    expect(isTransientGraph(concurrent, false)).toBe(true);
    expect(isTransientGraph(graphError(400), false)).toBe(false);
    expect(isTransientSink(new HttpError("x", { service: "slack", statusCode: 408 }), false)).toBe(true);
  });
});

describe("httpRequest on the one policy", () => {
  it("honours a Retry-After given as an HTTP date", async () => {
    const clock = new ManualClock();
    const waits: number[] = [];
    const sleepy = {
      now: () => clock.now(),
      sleep: async (ms: number) => {
        waits.push(ms);
        await clock.sleep(ms);
      },
    };
    const at = new Date(clock.now().getTime() + 20_000).toUTCString();
    let calls = 0;
    const fetchStub = (() =>
      Promise.resolve(
        ++calls === 1
          ? new Response("busy", { status: 503, headers: { "retry-after": at } })
          : new Response("ok", { status: 200 }),
      )) as typeof fetch;
    const response = await httpRequest(
      { service: "pagerduty", method: "POST", url: "https://events.example/v2/enqueue", body: "{}" },
      { clock: sleepy, fetch: fetchStub },
    );
    expect(response.text).toBe("ok");
    expect(waits).toEqual([20_000]);
  });
});
