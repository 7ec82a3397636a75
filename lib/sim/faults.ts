/**
 * Deterministic fault injection: a test says "the next 2 PATCHes to the Nylas
 * connector answer 500 after applying the change" and gets exactly that,
 * with no randomness, so every failure path of the product can be replayed.
 */

/** The simulator's servers; also the `service` of a RecordedRequest. */
export type SimService = "entra" | "graph" | "nylas" | "nylas-eu" | "sinks";

/** What a matching request gets instead of (or after) normal handling. */
export type FaultResponse =
  | { status: number; headers?: Record<string, string>; body?: string | object }
  /** Never answer; the socket stays open until the client gives up or the simulator closes. */
  | { hang: true }
  /** Handle normally, but answer `delayMs` (wall-clock) later. */
  | { delayMs: number }
  /** Drop the connection without an HTTP response. */
  | { reset: true }
  /**
   * Answer `status` with a body that quotes the request back — its headers (the
   * Authorization bearer token, the API key) and its body (a token request's
   * client_secret) — as JSON or as an HTML error page. Some gateways and debug
   * endpoints do this; the product must never pass the echo on to any output.
   */
  | { echo: "json" | "html"; status: number };

/** A fault to inject: which requests it matches and what they get. */
export interface FaultSpec {
  service: SimService;
  /** HTTP method, case-insensitive; any when omitted. */
  method?: string;
  /**
   * Path without the query string, e.g. `/v3/connectors/microsoft`. A string
   * must match exactly; use a RegExp for patterns. Graph `$batch` sub-requests
   * are matched too, with their version prefix (`/v1.0/applications(...)`).
   */
  path: string | RegExp;
  /** How many matching requests the fault applies to. Default 1; `Infinity` allowed. */
  times?: number;
  /**
   * "before" (default): answer with the fault instead of handling the request.
   * "after": handle it (the write happens), then answer with the fault, the way
   * a timeout or reset after a successful write looks to a client.
   */
  when?: "before" | "after";
  response: FaultResponse;
}

/** A registered fault; `remaining` and `hits` change as requests match it. */
export interface Fault extends Readonly<FaultSpec> {
  readonly id: number;
  remaining: number;
  hits: number;
}

/** Registry of faults, consulted by every simulated server on every request. */
export class FaultInjector {
  readonly #faults: Fault[] = [];
  #nextId = 1;

  /** Registers a fault; the first registered fault that matches a request wins. */
  add(spec: FaultSpec): Fault {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new RangeError(`fault.times must be > 0, got ${times}`);
    const fault: Fault = { ...spec, id: this.#nextId++, remaining: times, hits: 0 };
    this.#faults.push(fault);
    return fault;
  }

  /** Removes one fault (whether or not it was used up). */
  remove(fault: Fault): void {
    const index = this.#faults.indexOf(fault);
    if (index >= 0) this.#faults.splice(index, 1);
  }

  /** Removes every fault. */
  clear(): void {
    this.#faults.length = 0;
  }

  /** Faults that can still fire. */
  get active(): readonly Fault[] {
    return this.#faults.filter((f) => f.remaining > 0);
  }

  /**
   * Finds the first live fault matching the request and consumes one use of it.
   * Used-up faults are dropped, so a long benchmark does not accumulate them.
   */
  take(service: SimService, method: string, path: string): Fault | undefined {
    for (let i = 0; i < this.#faults.length; i++) {
      const fault = this.#faults[i];
      if (fault === undefined || !matches(fault, service, method, path)) continue;
      fault.remaining -= 1;
      fault.hits += 1;
      if (fault.remaining <= 0) this.#faults.splice(i, 1);
      return fault;
    }
    return undefined;
  }
}

function matches(fault: Fault, service: SimService, method: string, path: string): boolean {
  if (fault.remaining <= 0 || fault.service !== service) return false;
  if (fault.method !== undefined && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  if (typeof fault.path === "string") return fault.path === path;
  fault.path.lastIndex = 0; // a /g or /y RegExp keeps state between test() calls
  return fault.path.test(path);
}
