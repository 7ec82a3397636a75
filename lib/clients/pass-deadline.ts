/**
 * A pass's deadline, as the retry policy (retry.ts) sees it. The Functions host
 * kills a pass at its functionTimeout (lib/config/function-timeout.ts) however
 * short each wait was, so the pass binds its deadline around its work with
 * `run`, and every wait of the retry policy asks `currentDeadline()` before it
 * starts. Bound this way it reaches the waits of every client (the Graph SDK,
 * @azure/identity's pipeline, the Nylas SDK) without each carrying it; outside
 * a pass (the webhook, the CLI's scan) there is none and nothing changes.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Service } from "../errors.js";

/** A call that waited on, or gave up on, a service that kept failing transiently (a 429, a 503, no answer). */
export interface Throttle {
  /** Unknown when the waiting caller did not say (a bare `waitToRetry`). */
  service: Service | undefined;
  /** The last answer's status (0: none came); unknown from a bare `waitToRetry`. */
  statusCode: number | undefined;
  retryAfterMs: number | undefined;
}

export interface GaveUp extends Throttle {
  /** The wait the deadline refused; absent when the attempts ran out first. */
  refusedWaitMs?: number;
}

/**
 * The time by which a pass stops waiting on services, and what the pass needs
 * to say why it stopped: who made it wait, and which calls gave up.
 */
export class PassDeadline {
  readonly #waited = new Map<Service | undefined, Throttle & { ms: number }>();
  readonly #gaveUp: GaveUp[] = [];

  constructor(
    /** Epoch milliseconds on `now`'s clock. */
    readonly atMs: number,
    readonly now: () => number,
  ) {}

  run<T>(work: () => Promise<T>): Promise<T> {
    return deadlines.run(this, work);
  }

  remainingMs(): number {
    return this.atMs - this.now();
  }

  passed(): boolean {
    return this.remainingMs() <= 0;
  }

  /** Calls that gave up on a failing service, in order; `since` is an earlier `gaveUpCount`. */
  gaveUpSince(since: number): readonly GaveUp[] {
    return this.#gaveUp.slice(since);
  }

  get gaveUpCount(): number {
    return this.#gaveUp.length;
  }

  /** The service this pass waited on longest, with its last answer: who used up the time. */
  longestWait(): (Throttle & { ms: number }) | undefined {
    return [...this.#waited.values()].sort((a, b) => b.ms - a.ms)[0];
  }

  noteWait(throttle: Throttle, ms: number): void {
    const before = this.#waited.get(throttle.service)?.ms ?? 0;
    this.#waited.set(throttle.service, { ...throttle, ms: before + ms });
  }

  noteGaveUp(gaveUp: GaveUp): void {
    this.#gaveUp.push(gaveUp);
  }
}

const deadlines = new AsyncLocalStorage<PassDeadline>();

/** The deadline of the pass this code runs in, if any. */
export function currentDeadline(): PassDeadline | undefined {
  return deadlines.getStore();
}
