/**
 * What `IncidentManager.raise` decides for one read of the incident: open it
 * (one trigger), refresh it (new content; a repeat when due or escalated), or
 * nothing. Pure: the manager reads, asks, writes.
 */
import type { StoredItem, WriteOptions } from "../state/store.js";
import {
  isEscalation,
  type Incident,
  type IncidentEvent,
  type IncidentNotification,
  type Signal,
} from "./incident.js";
import { fieldsOf, sameContent, type IncidentRecord } from "./incident-record.js";

/** What `raise` did: which notification (if any) it enqueued. */
export interface RaiseResult {
  incident: Incident;
  notified: "trigger" | "repeat" | null;
}

/** What `raise` decided to write. */
export interface RaiseStep {
  record: IncidentRecord;
  condition: WriteOptions;
  notified: RaiseResult["notified"];
  log: string | undefined;
}

export interface StepContext {
  now: Date;
  /** ALERT_REPEAT_HOURS, in ms. */
  repeatMs: number;
  /** Whether PagerDuty hears of this notification. */
  pages(incident: Incident, event: IncidentEvent, paged: boolean): boolean;
  notification(incident: Incident, seq: number, event: IncidentEvent, pages: boolean): IncidentNotification;
}

/** A new occurrence: absent, or resolved before. One trigger. */
export function openingStep(
  signal: Signal,
  item: StoredItem<IncidentRecord> | undefined,
  ctx: StepContext,
): RaiseStep {
  const iso = ctx.now.toISOString();
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
  const paged = ctx.pages(incident, "incident.triggered", false);
  return {
    record: {
      v: 1,
      incident,
      seq,
      unsent: [...(item?.value.unsent ?? []), ctx.notification(incident, seq, "incident.triggered", paged)],
      paged,
    },
    condition: item === undefined ? { ifNotExists: true } : { ifMatch: item.etag },
    notified: "trigger",
    log: `Incident ${item === undefined ? "opened" : "re-opened"}: ${signal.key} (${signal.kind}, ${signal.severity}).`,
  };
}

/**
 * An open incident seen again: new content is recorded; a repeat goes out when
 * `repeatMs` passed since the last notification or the severity escalated.
 * Undefined: nothing to write.
 */
export function refreshingStep(
  signal: Signal,
  item: StoredItem<IncidentRecord>,
  ctx: StepContext,
): RaiseStep | undefined {
  const iso = ctx.now.toISOString();
  const record = item.value;
  const current = record.incident;
  const changed = !sameContent(current, signal);
  const escalated = isEscalation(current.severity, signal.severity);
  const due =
    current.lastNotified === null || ctx.now.getTime() - Date.parse(current.lastNotified) >= ctx.repeatMs;
  const notify = escalated || due;
  if (!changed && !notify) return undefined;

  const incident: Incident = {
    ...current,
    ...fieldsOf(signal),
    lastChanged: changed ? iso : current.lastChanged,
    lastNotified: notify ? iso : current.lastNotified,
    notifications: current.notifications + (notify ? 1 : 0),
  };
  const seq = record.seq + (notify ? 1 : 0);
  const pages = notify && ctx.pages(incident, "incident.repeated", record.paged === true);
  return {
    record: {
      v: 1,
      incident,
      seq,
      unsent: notify
        ? [...record.unsent, ctx.notification(incident, seq, "incident.repeated", pages)]
        : record.unsent,
      paged: record.paged === true || pages,
    },
    condition: { ifMatch: item.etag },
    notified: notify ? "repeat" : null,
    log: notify
      ? `Incident ${escalated ? `escalated to ${signal.severity}` : "still open"}: ${signal.key}; notifying again.`
      : undefined,
  };
}
