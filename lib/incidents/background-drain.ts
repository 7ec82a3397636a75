/**
 * Delivery that goes on after the webhook has answered. Nylas wants its answer
 * within 10 s, so an answer can only wait a few seconds for the sinks; a burst
 * of notifications queues more alerts than that. Each answer asks for a drain;
 * one drain runs at a time in the process (concurrent drains would only fight
 * over the same claims), and it runs another round while answers keep asking,
 * up to `maxRunMs`. What is left after that waits for the next request or pass.
 *
 * A drain is never cut when an answer stops waiting: a message in flight to a
 * slow sink gets its reply, instead of being abandoned and, for Slack or Teams,
 * posted again by the next drain.
 */
import { errorMessage } from "../errors.js";
import type { Logger } from "../logger.js";

/** `IncidentManager.deliver` in the background: what a webhook answer asks for. */
export interface BackgroundDeliverOptions {
  background: true;
  /** How long the caller waits; the drain goes on. */
  deadlineMs: number;
}

/** Default bound of one background drain (all its rounds), wall clock. */
export const BACKGROUND_DRAIN_MS = 60_000;

export class BackgroundDrain {
  readonly #round: (deadlineMs: number) => Promise<unknown>;
  readonly #logger: Logger;
  readonly #maxRunMs: number;
  /** Callers whose alerts no round has started on yet. */
  #waiting: (() => void)[] = [];
  #active = false;
  #idle: Promise<void> = Promise.resolve();

  /** `round` sends what is pending, stopping at its deadline. */
  constructor(
    round: (deadlineMs: number) => Promise<unknown>,
    logger: Logger,
    maxRunMs = BACKGROUND_DRAIN_MS,
  ) {
    this.#round = round;
    this.#logger = logger;
    this.#maxRunMs = maxRunMs;
  }

  /**
   * Asks for a round that starts after this call, and waits for it at most
   * `waitMs` (the drain itself goes on). Never rejects: failures are logged,
   * and the alerts stay pending for the next pass.
   */
  async request(waitMs: number): Promise<void> {
    const done = new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (!this.#active) {
      this.#active = true;
      this.#idle = this.#run();
    }
    // Not a back-off: the caller's answer waits at most waitMs for the drain, then goes on without it.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, waitMs));
    });
    try {
      await Promise.race([done, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once no drain runs (tests, and a host shutting down). */
  async idle(): Promise<void> {
    while (this.#active) await this.#idle;
  }

  async #run(): Promise<void> {
    // Wall clock on purpose: the bound is real time a host keeps working after its answer.
    const started = performance.now();
    // Whole milliseconds: the round's deadline becomes an AbortSignal.timeout.
    const left = () => Math.floor(this.#maxRunMs - (performance.now() - started));
    while (this.#waiting.length > 0 && left() > 0) {
      const round = this.#waiting.splice(0);
      try {
        await this.#round(left());
      } catch (error) {
        this.#logger.error(
          `Alerts: background delivery failed: ${errorMessage(error)}; what is pending is sent by the next webhook answer or pass.`,
        );
      }
      for (const resolve of round) resolve();
    }
    const late = this.#waiting.splice(0);
    if (late.length > 0) {
      this.#logger.info(
        `Alerts: background delivery stopped after ${Math.round(this.#maxRunMs / 1000)} s; what is pending is sent by the next webhook answer or pass.`,
      );
    }
    for (const resolve of late) resolve();
    // No await between the loop's last check and here: a request cannot slip in unnoticed.
    this.#active = false;
  }
}
