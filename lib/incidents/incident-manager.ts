/**
 * The one place that decides who is told what, and when: trigger once, repeat
 * while open (every ALERT_REPEAT_HOURS, or at once on escalation), resolve once.
 * Sinks only format (`../shared/ARCHITECTURE.md`).
 *
 * Every change is a conditional write (etag) in a retry loop, so the same key
 * raised at once by the webhook and the sweep yields one incident and one
 * notification. A decided notification is stored inside the incident record
 * (`unsent`) in that same write, then copied to the outbox and cleared: a crash
 * between the two loses nothing (`flushUnsent`, or the next raise/resolve of the
 * key, finishes the copy; the outbox ignores a copy it already has). The key is
 * listed as unsent before that write (`unsent-incidents.ts`), so `flushUnsent`
 * reads the few listed incidents, not all of them.
 */
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore, StoredItem } from "../state/store.js";
import { BackgroundDrain, type BackgroundDeliverOptions } from "./background-drain.js";
import { Asks } from "./drain-round.js";
import {
  SEVERITY_RANK,
  SINK_NAMES,
  type Announcement,
  type AnnouncementNotification,
  type Incident,
  type IncidentEvent,
  type IncidentNotification,
  type Severity,
  type Signal,
  type SinkName,
} from "./incident.js";
import {
  incidentStorageKey,
  validateAnnouncement,
  validateSignal,
  type IncidentRecord,
} from "./incident-record.js";
import type { DeliverOptions, DeliverReport, Outbox } from "./outbox.js";
import {
  openingStep,
  refreshingStep,
  type RaiseResult,
  type RaiseStep,
  type StepContext,
} from "./raise-step.js";
import { UnsentIncidents } from "./unsent-incidents.js";

export { incidentStorageKey } from "./incident-record.js";
export type { BackgroundDeliverOptions } from "./background-drain.js";
export type { RaiseResult } from "./raise-step.js";

export interface IncidentManagerDeps {
  store: StateStore;
  clock: Clock;
  logger: Logger;
  /** ALERT_REPEAT_HOURS: re-notify an incident still open after this long. */
  repeatHours: number;
  outbox: Outbox;
  /**
   * PAGERDUTY_MIN_SEVERITY: PagerDuty pages a person, so it receives only
   * incidents at or above this severity (the setting's default is critical;
   * omitted here, every incident); the chat and webhook sinks receive all. An
   * incident that escalates past it pages then.
   */
  pagerDutyMinSeverity?: Severity;
}

/** Writes contended this many times in a row give up (the next pass tries again). */
const MAX_WRITE_ATTEMPTS = 25;

export class IncidentManager {
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #repeatMs: number;
  readonly #outbox: Outbox;
  readonly #pageFrom: number;
  readonly #unsent: UnsentIncidents;
  readonly #background: BackgroundDrain;
  readonly #asks = new Asks(); // each webhook answer's ask: a sink done with its round goes on

  constructor(deps: IncidentManagerDeps) {
    if (!(deps.repeatHours > 0)) throw new RangeError("repeatHours must be a positive number of hours.");
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#repeatMs = deps.repeatHours * HOUR_MS;
    this.#outbox = deps.outbox;
    this.#pageFrom = SEVERITY_RANK[deps.pagerDutyMinSeverity ?? "info"];
    this.#unsent = new UnsentIncidents(deps.store, deps.clock);
    const drain = (deadlineMs: number) => this.deliver({ deadlineMs, ...this.#asks.options });
    this.#background = new BackgroundDrain(drain, deps.logger);
  }

  /** Whether PagerDuty hears of this notification: pages at or above the minimum, and the resolve of a page. */
  #pages(incident: Incident, event: IncidentEvent, paged: boolean): boolean {
    return event === "incident.resolved" ? paged : SEVERITY_RANK[incident.severity] >= this.#pageFrom;
  }

  /**
   * Opens the incident (one "trigger"), or refreshes an open one: details and
   * severity are updated, and a "repeat" goes out only when `repeatHours` passed
   * since the last notification or the severity escalated. A resolved incident
   * re-opens (a new trigger).
   */
  async raise(signal: Signal): Promise<RaiseResult> {
    validateSignal(signal);
    const storageKey = incidentStorageKey(signal.key);
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const item = await this.#store.get<IncidentRecord>("incidents", storageKey);
      let step: RaiseStep | undefined;
      if (item === undefined || item.value.incident.status === "resolved") {
        step = openingStep(signal, item, this.#stepContext());
      } else {
        step = refreshingStep(signal, item, this.#stepContext());
        if (step === undefined) {
          if (item.value.unsent.length > 0) await this.#flush(storageKey, item);
          return { incident: item.value.incident, notified: null };
        }
      }
      const listing = step.record.unsent.length > 0 ? await this.#unsent.add(storageKey) : undefined;
      const written = await this.#store.put("incidents", storageKey, step.record, step.condition);
      if (!written.ok) continue;
      if (step.log !== undefined) this.#logger.info(step.log);
      await this.#flush(storageKey, { key: storageKey, value: step.record, etag: written.etag }, listing);
      return { incident: step.record.incident, notified: step.notified };
    }
    throw new Error(
      `Incident ${signal.key}: ${MAX_WRITE_ATTEMPTS} concurrent updates in a row; gave up for this pass (the next pass raises it again).`,
    );
  }

  #stepContext(): StepContext {
    return {
      now: this.#clock.now(),
      repeatMs: this.#repeatMs,
      pages: (incident, event, paged) => this.#pages(incident, event, paged),
      notification: (incident, seq, event, pages) => this.#notification(incident, seq, event, pages),
    };
  }

  /** Resolves a firing incident (one "resolve" notification). Absent or already resolved: nothing. */
  async resolve(key: string, note: string): Promise<Incident | undefined> {
    const storageKey = incidentStorageKey(key);
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const iso = this.#clock.now().toISOString();
      const item = await this.#store.get<IncidentRecord>("incidents", storageKey);
      if (item === undefined) return undefined;
      const record = item.value;
      if (record.incident.status === "resolved") {
        if (record.unsent.length > 0) await this.#flush(storageKey, item);
        return undefined;
      }
      const incident: Incident = {
        ...record.incident,
        status: "resolved",
        lastChanged: iso,
        lastNotified: iso,
        resolvedAt: iso,
        notifications: record.incident.notifications + 1,
        resolveNote: note,
      };
      const seq = record.seq + 1;
      const next: IncidentRecord = {
        v: 1,
        incident,
        seq,
        unsent: [
          ...record.unsent,
          this.#notification(incident, seq, "incident.resolved", record.paged === true),
        ],
        paged: record.paged === true,
      };
      const listing = await this.#unsent.add(storageKey);
      const written = await this.#store.put("incidents", storageKey, next, { ifMatch: item.etag });
      if (!written.ok) continue;
      this.#logger.info(`Incident resolved: ${key}.`);
      await this.#flush(storageKey, { key: storageKey, value: next, etag: written.etag }, listing);
      return incident;
    }
    throw new Error(
      `Incident ${key}: ${MAX_WRITE_ATTEMPTS} concurrent updates in a row; gave up resolving it for this pass.`,
    );
  }

  /**
   * A one-shot notification that is not an incident (`rotation.succeeded`,
   * `grant.reauth_requested`). Announcing the same `idempotencyKey` again is a no-op
   * for as long as the outbox keeps delivered records (30 days by default).
   * Returns true when it was newly enqueued for at least one sink.
   */
  async announce(announcement: Announcement): Promise<boolean> {
    validateAnnouncement(announcement);
    const { sinks: chosen, ...rest } = announcement;
    const sinks: SinkName[] =
      chosen ??
      (announcement.event === "grant.reauth_requested" ? ["webhook"] : ["webhook", "slack", "teams"]);
    const notification: AnnouncementNotification = {
      type: "announcement",
      id: `announce:${announcement.idempotencyKey}`,
      event: announcement.event,
      createdAt: this.#clock.now().toISOString(),
      announcement: rest,
      sinks,
    };
    return (await this.#outbox.enqueue(notification)) > 0;
  }

  async get(key: string): Promise<Incident | undefined> {
    const item = await this.#store.get<IncidentRecord>("incidents", incidentStorageKey(key));
    return item?.value.incident;
  }

  /** Every firing incident, streamed. */
  async *open(): AsyncGenerator<Incident> {
    for await (const item of this.#store.list<IncidentRecord>("incidents")) {
      if (item.value.incident.status === "firing") yield item.value.incident;
    }
  }

  /**
   * Copies notifications decided but not yet in the outbox (after a crash).
   * Reads the incidents listed as unsent; once a day, every incident. Returns
   * how many incidents had some.
   */
  async flushUnsent(): Promise<number> {
    let count = 0;
    for await (const { item, listing } of this.#unsent.due()) {
      count++;
      await this.#flush(item.key, item, listing);
    }
    return count;
  }

  /**
   * `flushUnsent`, then `outbox.deliverPending`: what a pass calls at its end.
   * With `background` (a webhook answer): starts or joins the background drain
   * (`background-drain.ts`), waits at most `deadlineMs`; it goes on. Never rejects then.
   */
  deliver(options: BackgroundDeliverOptions): Promise<undefined>;
  deliver(options?: DeliverOptions): Promise<DeliverReport>;
  async deliver(options: DeliverOptions | BackgroundDeliverOptions = {}): Promise<DeliverReport | undefined> {
    if ("background" in options) {
      this.#asks.ask();
      await this.#background.request(options.deadlineMs);
      return undefined;
    }
    await this.flushUnsent();
    return this.#outbox.deliverPending(options);
  }

  /** Resolves once no background drain runs. */
  backgroundIdle(): Promise<void> {
    return this.#background.idle();
  }

  #notification(incident: Incident, seq: number, event: IncidentEvent, pages: boolean): IncidentNotification {
    return {
      type: "incident",
      id: `${incident.key}@${seq}`,
      seq,
      event,
      createdAt: this.#clock.now().toISOString(),
      incident: structuredClone(incident),
      sinks: SINK_NAMES.filter((name) => name !== "pagerduty" || pages),
    };
  }

  /**
   * Outbox first, then clear `unsent`; the outbox ignores a notification it
   * already holds. `listing`: the etag of the unsent listing to remove once clear.
   */
  async #flush(storageKey: string, item: StoredItem<IncidentRecord>, listing?: string): Promise<void> {
    let current = item;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      if (current.value.unsent.length === 0) {
        if (listing !== undefined) await this.#unsent.remove(storageKey, listing);
        return;
      }
      for (const notification of current.value.unsent) await this.#outbox.enqueue(notification);
      const cleared = await this.#store.put(
        "incidents",
        storageKey,
        { ...current.value, unsent: [] },
        { ifMatch: current.etag },
      );
      if (cleared.ok) {
        if (listing !== undefined) await this.#unsent.remove(storageKey, listing);
        return;
      }
      const fresh = await this.#store.get<IncidentRecord>("incidents", storageKey);
      if (fresh === undefined) return;
      current = fresh;
    }
    this.#logger.warn(
      `Incident ${item.value.incident.key}: could not clear its queued notifications (contention); the next pass finishes it.`,
    );
  }
}
