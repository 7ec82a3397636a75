/**
 * Time as a dependency: passes never read `Date.now()` themselves, so tests and
 * the sandbox can move the calendar (a secret 13 days from expiry) without waiting.
 */
export interface Clock {
  now(): Date;
  /** Waits `ms`, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, abort?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, abort) =>
    new Promise<void>((resolve, reject) => {
      if (abort?.aborted) {
        reject(abort.reason as Error);
        return;
      }
      const timer = setTimeout(() => {
        abort?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(abort?.reason as Error);
      };
      abort?.addEventListener("abort", onAbort, { once: true });
    }),
};

/**
 * A clock that starts at a chosen instant and moves only when told, or when
 * something sleeps on it (sleeping advances it at once). Shared by the simulator
 * and the code under test so both agree on what "now" is.
 */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: Date | number = Date.UTC(2026, 10, 23, 12, 0, 0)) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  set(to: Date): void {
    this.#now = to.getTime();
  }

  async sleep(ms: number, abort?: AbortSignal): Promise<void> {
    if (abort?.aborted) throw abort.reason as Error;
    this.#now += ms;
    // Yield so concurrent work interleaves as it would in real time.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;
