/**
 * What the outbox stores: one `DeliveryRecord` per (notification, sink) in
 * `deliveries`, the truth every claim and settlement is a conditional write on;
 * and, while any of a notification's records is pending, one entry for it in
 * `outbox` (`pending-deliveries.ts`), so that a drain reads what is left to send
 * and not the 30 days of settled records kept for idempotency.
 */
import { createHash } from "node:crypto";
import type { StoredItem } from "../state/store.js";
import { orderKeyOf, type Notification, type SinkName } from "./incident.js";

export interface DeliveryRecord {
  v: 1;
  /** Delivery id: stable for one (notification, sink); sent as `delivery_id` / X-Watchdog-Delivery. */
  id: string;
  sink: SinkName;
  notification: Notification;
  /** Deliveries with the same order key go out to a sink in `seq` order. */
  orderKey: string;
  seq: number;
  state: "pending" | "delivered" | "dead";
  createdAt: string;
  /** Sends started (claims), across passes. */
  attempts: number;
  nextAttemptAt: string;
  /** While in the future, another driver is sending this record. */
  leaseUntil: string | null;
  /** Why the last send failed: sink name, status, host only. Never a URL path, key or secret. */
  lastError: string | null;
  /** When it was delivered or given up. */
  settledAt: string | null;
}

/** The delivery id of (notification, sink): opaque, storage-key safe, the same on every retry. */
export function deliveryIdOf(notificationId: string, sink: SinkName): string {
  return createHash("sha256").update(`${notificationId}\n${sink}`).digest("hex").slice(0, 32);
}

/** A fresh pending record, due at once; with `leaseMs`, claimed by its creator for that long. */
export function newDeliveryRecord(
  notification: Notification,
  sink: SinkName,
  at: Date,
  leaseMs = 0,
): DeliveryRecord {
  const now = at.toISOString();
  const leaseUntil = leaseMs > 0 ? new Date(at.getTime() + leaseMs).toISOString() : null;
  return {
    v: 1,
    id: deliveryIdOf(notification.id, sink),
    sink,
    notification,
    orderKey: orderKeyOf(notification),
    seq: notification.type === "incident" ? notification.seq : 0,
    state: "pending",
    createdAt: now,
    attempts: 0,
    nextAttemptAt: now,
    leaseUntil,
    lastError: null,
    settledAt: null,
  };
}

/** Oldest first; within one instant, in `seq` order. */
export function byOrder(a: StoredItem<DeliveryRecord>, b: StoredItem<DeliveryRecord>): number {
  return a.value.createdAt === b.value.createdAt
    ? a.value.seq - b.value.seq
    : a.value.createdAt < b.value.createdAt
      ? -1
      : 1;
}

/** Records as queues: one per incident (`orderKey`), each in order, the queues ordered by their first record. */
export function asQueues(items: Iterable<StoredItem<DeliveryRecord>>): StoredItem<DeliveryRecord>[][] {
  const byIncident = new Map<string, StoredItem<DeliveryRecord>[]>();
  for (const item of items) {
    const queue = byIncident.get(item.value.orderKey) ?? [];
    byIncident.set(item.value.orderKey, queue);
    queue.push(item);
  }
  return [...byIncident.values()].map((q) => q.sort(byOrder)).sort((a, b) => byOrder(a[0]!, b[0]!));
}
