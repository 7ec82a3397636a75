/**
 * What a drain costs: a StateStore wrapper that counts reads, and a world whose
 * alert webhook answers at once (an injected `fetch`), so that a test can record
 * a thousand delivered alerts in a second and then measure one more drain.
 */
import { ManualClock } from "../../../lib/clock.js";
import { IncidentManager } from "../../../lib/incidents/incident-manager.js";
import { Outbox } from "../../../lib/incidents/outbox.js";
import { createWebhookSink } from "../../../lib/incidents/sinks/webhook.js";
import type {
  Collection,
  DeleteOptions,
  StateStore,
  StoredItem,
  WriteOptions,
  WriteResult,
} from "../../../lib/state/store.js";
import { captureLogger, type CapturedLogger } from "./fixtures.js";

/** Reads are `get`s plus every item a `list` yields, per collection; writes are `put`s and `delete`s that took. */
export class CountingStore implements StateStore {
  readonly description: string;
  readonly #inner: StateStore;
  reads: Partial<Record<Collection, number>> = {};
  writes: Partial<Record<Collection, number>> = {};

  constructor(inner: StateStore) {
    this.#inner = inner;
    this.description = `counting ${inner.description}`;
  }

  /** Reads since the last call, and starts counting afresh. */
  take(): Partial<Record<Collection, number>> {
    const reads = this.reads;
    this.reads = {};
    return reads;
  }

  #count(collection: Collection): void {
    this.reads[collection] = (this.reads[collection] ?? 0) + 1;
  }

  get<T>(collection: Collection, key: string): Promise<StoredItem<T> | undefined> {
    this.#count(collection);
    return this.#inner.get<T>(collection, key);
  }

  /** Writes since the last call, and starts counting afresh. */
  takeWrites(): Partial<Record<Collection, number>> {
    const writes = this.writes;
    this.writes = {};
    return writes;
  }

  async put<T>(collection: Collection, key: string, value: T, options?: WriteOptions): Promise<WriteResult> {
    const result = await this.#inner.put(collection, key, value, options);
    if (result.ok) this.writes[collection] = (this.writes[collection] ?? 0) + 1;
    return result;
  }

  async delete(collection: Collection, key: string, options?: DeleteOptions): Promise<boolean> {
    const deleted = await this.#inner.delete(collection, key, options);
    if (deleted) this.writes[collection] = (this.writes[collection] ?? 0) + 1;
    return deleted;
  }

  async *list<T>(collection: Collection): AsyncIterable<StoredItem<T>> {
    this.#count(collection);
    for await (const item of this.#inner.list<T>(collection)) {
      this.#count(collection);
      yield item;
    }
  }
}

export interface CostWorld {
  store: CountingStore;
  clock: ManualClock;
  logger: CapturedLogger;
  outbox: Outbox;
  incidents: IncidentManager;
  /** Bodies the alert webhook accepted. */
  sent: string[];
  newOutbox(): Outbox;
}

export function costWorld(inner: StateStore): CostWorld {
  const store = new CountingStore(inner);
  const clock = new ManualClock();
  const logger = captureLogger();
  const sent: string[] = [];
  const fetch: typeof globalThis.fetch = (_url, init) => {
    sent.push(typeof init?.body === "string" ? init.body : "");
    return Promise.resolve(new Response("ok", { status: 200 }));
  };
  const sinks = [createWebhookSink({ url: "https://alerts.example.test/hook", secret: "whsec_cost" })];
  const newOutbox = () => new Outbox({ store, clock, logger, sinks, fetch });
  const outbox = newOutbox();
  const incidents = new IncidentManager({ store, clock, logger, repeatHours: 24, outbox });
  return { store, clock, logger, outbox, incidents, sent, newOutbox };
}

/** `count` re-authentication requests, each announced to the webhook and delivered: what webhook answers leave behind. */
export async function recordWebhookAnswers(w: CostWorld, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await w.incidents.announce({
      event: "grant.reauth_requested",
      idempotencyKey: `reauth:r1:g${i}`,
      severity: "info",
      summary: `Please re-authenticate user${i}@contoso.com`,
      details: {},
      grant: { grantId: `g${i}`, email: `user${i}@contoso.com`, deadline: "2027-01-01T00:00:00.000Z" },
    });
  }
  const report = await w.outbox.deliverPending({ deadlineMs: 60_000 });
  if (report.delivered !== count) throw new Error(`delivered ${report.delivered} of ${count}`);
}
