/**
 * The retry policy under a pass's deadline, on a manual clock: a wait that would end past the
 * deadline is never started, and the call gives up at once with its last answer; the deadline keeps
 * which service made the pass wait and which calls gave up. Outside a pass nothing changes.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../lib/clock.js";
import { HttpError } from "../../../lib/errors.js";
import {
  PassDeadline,
  isTransientGraph,
  waitToRetry,
  withRetry,
  type RetryOptions,
} from "../../../lib/clients/retry.js";

const throttled = () =>
  new HttpError("graph: reading application x failed (429)", {
    service: "graph",
    statusCode: 429,
    retryAfterMs: 3_600_000,
  });

/** A Graph read that is always throttled; records each wait asked of the clock. */
function alwaysThrottled(clock: ManualClock) {
  const waits: number[] = [];
  let attempts = 0;
  const options: RetryOptions = {
    idempotent: true,
    transient: isTransientGraph,
    policy: { maxAttempts: 5 },
    sleep: async (ms) => {
      waits.push(ms);
      await clock.sleep(ms);
    },
  };
  const call = () =>
    withRetry(() => {
      attempts++;
      return Promise.reject(throttled());
    }, options);
  return { call, waits, attempts: () => attempts };
}

const deadlineIn = (clock: ManualClock, ms: number) =>
  new PassDeadline(clock.now().getTime() + ms, () => clock.now().getTime());

describe("waits under a pass's deadline", () => {
  it("outside a pass, a throttled read waits its capped 60 s before every attempt, as before", async () => {
    const clock = new ManualClock();
    const read = alwaysThrottled(clock);
    await expect(read.call()).rejects.toMatchObject({ service: "graph", statusCode: 429 });
    expect(read.waits).toEqual([60_000, 60_000, 60_000, 60_000]);
    expect(read.attempts()).toBe(5);
  });

  it("refuses the wait that would end past the deadline and throws the last answer at once", async () => {
    const clock = new ManualClock();
    const start = clock.now().getTime();
    const deadline = deadlineIn(clock, 150_000);
    const read = alwaysThrottled(clock);
    await expect(deadline.run(read.call)).rejects.toMatchObject({
      service: "graph",
      statusCode: 429,
      retryAfterMs: 3_600_000,
    });
    // 60 s + 60 s fit in 150 s; a third 60 s would end at 180 s.
    expect(read.waits).toEqual([60_000, 60_000]);
    expect(read.attempts()).toBe(3);
    expect(clock.now().getTime() - start).toBe(120_000);
    expect(deadline.gaveUpSince(0)).toEqual([
      { service: "graph", statusCode: 429, retryAfterMs: 3_600_000, refusedWaitMs: 60_000 },
    ]);
    expect(deadline.longestWait()).toEqual({
      service: "graph",
      statusCode: 429,
      retryAfterMs: 3_600_000,
      ms: 120_000,
    });
  });

  it("notes a call whose attempts ran out before the deadline, without a refused wait", async () => {
    const clock = new ManualClock();
    const deadline = deadlineIn(clock, 600_000);
    const read = alwaysThrottled(clock);
    await expect(deadline.run(read.call)).rejects.toBeInstanceOf(HttpError);
    expect(read.waits).toHaveLength(4);
    expect(deadline.gaveUpSince(0)).toEqual([{ service: "graph", statusCode: 429, retryAfterMs: 3_600_000 }]);
  });

  it("does not count a failure that is not transient as giving up on a service", async () => {
    const clock = new ManualClock();
    const deadline = deadlineIn(clock, 600_000);
    const forbidden = new HttpError("graph: 403", { service: "graph", statusCode: 403 });
    await expect(
      deadline.run(() =>
        withRetry(() => Promise.reject(forbidden), {
          idempotent: true,
          transient: isTransientGraph,
          sleep: (ms) => clock.sleep(ms),
        }),
      ),
    ).rejects.toBe(forbidden);
    expect(deadline.gaveUpCount).toBe(0);
    expect(deadline.longestWait()).toBeUndefined();
  });

  it("a bare wait refused by the deadline names the service it was given", async () => {
    const clock = new ManualClock();
    const deadline = deadlineIn(clock, 30_000);
    const slept: number[] = [];
    await expect(
      deadline.run(() =>
        waitToRetry(1, 45_000, { service: "graph", sleep: (ms) => Promise.resolve(void slept.push(ms)) }),
      ),
    ).rejects.toThrow(/^graph: no time left in this pass to wait 45 s/);
    expect(slept).toEqual([]);
    expect(deadline.gaveUpSince(0)).toEqual([
      { service: "graph", statusCode: undefined, retryAfterMs: 45_000, refusedWaitMs: 45_000 },
    ]);
  });

  it("a deadline binds only the work run under it", async () => {
    const clock = new ManualClock();
    const deadline = deadlineIn(clock, 0);
    await deadline.run(() => Promise.resolve());
    const read = alwaysThrottled(clock);
    await expect(read.call()).rejects.toBeInstanceOf(HttpError);
    expect(read.waits).toHaveLength(4);
    expect(deadline.gaveUpCount).toBe(0);
  });
});
