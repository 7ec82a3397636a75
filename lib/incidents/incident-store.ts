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
 * key, finishes the copy; the outbox ignores a copy it already has).
 */
import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { HOUR_MS } from "../clock.js";
import type { Logger } from "../logger.js";
import type { StateStore, StoredItem } from "../state/store.js";
import {
  isEscalation,
  SINK_NAMES,
  type Announcement,
  type AnnouncementNotification,
  type Incident,
  type IncidentEvent,
  type IncidentNotification,
  type Notification,
  type Severity,
  type Signal,
  type SinkName,
} from "./incident.js";
import type { DeliverOptions, DeliverReport, Outbox } from "./outbox.js";

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

/** What `raise` did: which notification (if any) it enqueued. */
export interface RaiseResult {
  incident: Incident;
  notified: "trigger" | "repeat" | null;
}

/** The stored value in the `incidents` collection. */
interface IncidentRecord {
  v: 1;
  incident: Incident;
  /** Notifications ever decided for this key (all occurrences): orders them in the outbox. */
  seq: number;
  /** Decided, not yet copied to the outbox. */
  unsent: Notification[];
  /** This occurrence was sent to PagerDuty (so its resolve goes there too). */
  paged?: boolean;
}

/** Writes contended this many times in a row give up (the next pass tries again). */
const MAX_WRITE_ATTEMPTS = 25;
const SEVERITIES: readonly Severity[] = ["critical", "warning", "info"];
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
/** Keys Azure Table (no / \ # ?) and file names accept as they are; others are hashed. */
const SAFE_KEY = /^[A-Za-z0-9._:@=+-]{1,200}$/;

/** The storage key of an incident key. */
export function incidentStorageKey(key: string): string {
  return SAFE_KEY.test(key) ? key : `h-${createHash("sha256").update(key).digest("hex")}`;
}

export class IncidentManager {
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #repeatMs: number;
  readonly #outbox: Outbox;
  readonly #pageFrom: number;

  constructor(deps: IncidentManagerDeps) {
    if (!(deps.repeatHours > 0)) throw new RangeError("repeatHours must be a positive number of hours.");
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#repeatMs = deps.repeatHours * HOUR_MS;
    this.#outbox = deps.outbox;
    this.#pageFrom = SEVERITY_RANK[deps.pagerDutyMinSeverity ?? "info"];
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
      const now = this.#clock.now();
      const iso = now.toISOString();
      const item = await this.#store.get<IncidentRecord>("incidents", storageKey);

      if (item === undefined || item.value.incident.status === "resolved") {
        const incident: Incident = {
          ...fieldsOf(signal),
          status: "firing",
          firstSeen: iso,
          lastChanged: iso,
          lastNotified: iso,
          resolvedAt: null,
          notifications: 1,
        };
        const seq = (item?.value.seq ?? 0) + 1;
        const paged = this.#pages(incident, "incident.triggered", false);
        const record: IncidentRecord = {
          v: 1,
          incident,
          seq,
          unsent: [
            ...(item?.value.unsent ?? []),
            this.#notification(incident, seq, "incident.triggered", paged),
          ],
          paged,
        };
        const written = await this.#store.put(
          "incidents",
          storageKey,
          record,
          item === undefined ? { ifNotExists: true } : { ifMatch: item.etag },
        );
        if (!written.ok) continue;
        this.#logger.info(
          `Incident ${item === undefined ? "opened" : "re-opened"}: ${signal.key} (${signal.kind}, ${signal.severity}).`,
        );
        await this.#flush(storageKey, { key: storageKey, value: record, etag: written.etag });
        return { incident, notified: "trigger" };
      }

      const record = item.value;
      const current = record.incident;
      const changed = !sameContent(current, signal);
      const escalated = isEscalation(current.severity, signal.severity);
      const due =
        current.lastNotified === null || now.getTime() - Date.parse(current.lastNotified) >= this.#repeatMs;
      const notify = escalated || due;
      if (!changed && !notify) {
        if (record.unsent.length > 0) await this.#flush(storageKey, item);
        return { incident: current, notified: null };
      }

      const incident: Incident = {
        ...current,
        ...fieldsOf(signal),
        lastChanged: changed ? iso : current.lastChanged,
        lastNotified: notify ? iso : current.lastNotified,
        notifications: current.notifications + (notify ? 1 : 0),
      };
      const seq = record.seq + (notify ? 1 : 0);
      const pages = notify && this.#pages(incident, "incident.repeated", record.paged === true);
      const next: IncidentRecord = {
        v: 1,
        incident,
        seq,
        unsent: notify
          ? [...record.unsent, this.#notification(incident, seq, "incident.repeated", pages)]
          : record.unsent,
        paged: record.paged === true || pages,
      };
      const written = await this.#store.put("incidents", storageKey, next, { ifMatch: item.etag });
      if (!written.ok) continue;
      if (notify) {
        this.#logger.info(
          `Incident ${escalated ? `escalated to ${signal.severity}` : "still open"}: ${signal.key}; notifying again.`,
        );
      }
      await this.#flush(storageKey, { key: storageKey, value: next, etag: written.etag });
      return { incident, notified: notify ? "repeat" : null };
    }
    throw new Error(
      `Incident ${signal.key}: ${MAX_WRITE_ATTEMPTS} concurrent updates in a row; gave up for this pass (the next pass raises it again).`,
    );
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
      const written = await this.#store.put("incidents", storageKey, next, { ifMatch: item.etag });
      if (!written.ok) continue;
      this.#logger.info(`Incident resolved: ${key}.`);
      await this.#flush(storageKey, { key: storageKey, value: next, etag: written.etag });
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

  /** Copies notifications decided but not yet in the outbox (after a crash). Returns how many incidents had some. */
  async flushUnsent(): Promise<number> {
    let count = 0;
    for await (const item of this.#store.list<IncidentRecord>("incidents")) {
      if (item.value.unsent.length === 0) continue;
      count++;
      await this.#flush(item.key, item);
    }
    return count;
  }

  /** `flushUnsent`, then `outbox.deliverPending`: what a pass calls at its end. */
  async deliver(options: DeliverOptions = {}): Promise<DeliverReport> {
    await this.flushUnsent();
    return this.#outbox.deliverPending(options);
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

  /** Outbox first, then clear `unsent`; the outbox ignores a notification it already holds. */
  async #flush(storageKey: string, item: StoredItem<IncidentRecord>): Promise<void> {
    let current = item;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      if (current.value.unsent.length === 0) return;
      for (const notification of current.value.unsent) await this.#outbox.enqueue(notification);
      const cleared = await this.#store.put(
        "incidents",
        storageKey,
        { ...current.value, unsent: [] },
        { ifMatch: current.etag },
      );
      if (cleared.ok) return;
      const fresh = await this.#store.get<IncidentRecord>("incidents", storageKey);
      if (fresh === undefined) return;
      current = fresh;
    }
    this.#logger.warn(
      `Incident ${item.value.incident.key}: could not clear its queued notifications (contention); the next pass finishes it.`,
    );
  }
}

function fieldsOf(
  signal: Signal,
): Pick<Incident, "key" | "kind" | "severity" | "summary" | "details" | "remediation" | "links"> {
  return {
    key: signal.key,
    kind: signal.kind,
    severity: signal.severity,
    summary: signal.summary,
    details: { ...signal.details },
    remediation: [...signal.remediation],
    links: signal.links.map((l) => ({ title: l.title, url: l.url })),
  };
}

function sameContent(incident: Incident, signal: Signal): boolean {
  return (
    incident.kind === signal.kind &&
    incident.severity === signal.severity &&
    incident.summary === signal.summary &&
    stableJson(incident.details) === stableJson(signal.details) &&
    JSON.stringify(incident.remediation) === JSON.stringify(signal.remediation) &&
    JSON.stringify(incident.links.map((l) => [l.title, l.url])) ===
      JSON.stringify(signal.links.map((l) => [l.title, l.url]))
  );
}

function stableJson(details: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(details)
      .sort()
      .map((k) => [k, details[k]]),
  );
}

function validateSignal(signal: Signal): void {
  if (signal.key.trim() === "") throw new TypeError("An incident signal needs a non-empty key.");
  if (!SEVERITIES.includes(signal.severity)) {
    throw new TypeError(
      `Incident ${signal.key}: severity "${String(signal.severity)}" is not critical, warning or info.`,
    );
  }
  if (signal.summary.trim() === "") throw new TypeError(`Incident ${signal.key}: the summary is empty.`);
}

function validateAnnouncement(a: Announcement): void {
  if (a.idempotencyKey.trim() === "")
    throw new TypeError(`Announcement ${a.event}: the idempotency key is empty.`);
  if (a.event.startsWith("incident.")) {
    throw new TypeError(`"${a.event}" is an incident event: use raise/resolve, not announce.`);
  }
  if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/.test(a.event)) {
    throw new TypeError(
      `Announcement event "${a.event}" is not a dotted lower-case name like "rotation.succeeded".`,
    );
  }
  if (!SEVERITIES.includes(a.severity)) throw new TypeError(`Announcement ${a.event}: bad severity.`);
  if (a.event === "grant.reauth_requested" && a.grant === undefined) {
    throw new TypeError("grant.reauth_requested needs `grant` (grant id, email, deadline).");
  }
  if (a.sinks?.includes("pagerduty")) {
    throw new TypeError(`Announcement ${a.event}: PagerDuty only receives incidents; raise one instead.`);
  }
}
