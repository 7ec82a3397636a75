/**
 * One drain's sinks, together. A sink that has sent everything it has while
 * another sink is still at work (a slow Slack) waits for the next webhook
 * answer's ask instead of leaving: had it left, the alerts asked for next
 * would wait for the slow sink to finish before a new drain picked them up,
 * which at a low steady rate (20 notifications/s, each answer after the
 * healthy sinks were done) held every healthy alert back for the whole drain
 * (bench/RESULTS.md, "alert latency"). The round ends when every sink is
 * idle or gone; an ask after that starts the next drain (`background-drain.ts`).
 */
import type { SinkName } from "./incident.js";

export interface SinkReport {
  delivered: number;
  failed: number;
  gaveUp: number;
}

export interface DeliverReport {
  delivered: number;
  /** Sent and refused or unanswered this pass; pending again with back-off. */
  failed: number;
  /** Given up this pass (permanent refusal, or older than `giveUpAfterHours`). */
  gaveUp: number;
  /** Pending and not attempted this pass: backing off, leased by another driver, sink resting, deadline. */
  waiting: number;
  deadlineReached: boolean;
  sinks: Partial<Record<SinkName, SinkReport>>;
}

export function emptyReport(): DeliverReport {
  return { delivered: 0, failed: 0, gaveUp: 0, waiting: 0, deadlineReached: false, sinks: {} };
}

/** Resolves at the next ask for delivery, or when `signal` aborts. */
export type NextAsk = (signal: AbortSignal) => Promise<void>;

export class DrainRound {
  /** Sinks sending now (not idle, not gone). */
  #busy: number;
  readonly #over = new AbortController();
  readonly #nextAsk: NextAsk | undefined;

  constructor(sinks: number, nextAsk: NextAsk | undefined) {
    this.#busy = sinks;
    this.#nextAsk = nextAsk;
  }

  /** The sink is done for good (deadline, resting, or a drain nobody asks again). */
  leave(): void {
    if (--this.#busy === 0) this.#over.abort();
  }

  /**
   * The sink has nothing new. True when an ask came and it should look again; false when it is
   * done: the round is over (no sink sends any more), `abort` fired, or nobody can ask again.
   * After false the sink has left; it must not call `leave`.
   */
  async idle(abort: AbortSignal): Promise<boolean> {
    if (this.#nextAsk === undefined || --this.#busy === 0) {
      this.#over.abort();
      return false;
    }
    await this.#nextAsk(AbortSignal.any([abort, this.#over.signal]));
    if (this.#over.signal.aborted || abort.aborted) return false;
    this.#busy++;
    return true;
  }
}

/** The asks for delivery (each webhook answer's): how many so far, and a wait for the next. */
export class Asks {
  #count = 0;
  #waiters: (() => void)[] = [];

  readonly count = (): number => this.#count;

  ask(): void {
    this.#count++;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  readonly next: NextAsk = (signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      this.#waiters.push(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });

  /** What a drain is given (`DeliverOptions`). */
  readonly options = { asked: this.count, nextAsk: this.next };
}
