/** The outbox's records for a sink no longer configured (`Outbox.deliverPending`). */
import { HOUR_MS } from "../clock.js";
import type { StoredItem } from "../state/store.js";
import type { AttemptContext } from "./delivery-attempt.js";
import type { DeliveryRecord } from "./delivery-record.js";
import type { SinkName } from "./incident.js";
import type { DeliverReport } from "./drain-round.js";

/** Records for a sink that is no longer configured: kept until the give-up age, in case it comes back. */
export async function orphaned(
  ctx: AttemptContext,
  name: SinkName,
  queues: StoredItem<DeliveryRecord>[][],
  report: DeliverReport,
): Promise<void> {
  const now = ctx.clock.now();
  const giveUpHours = ctx.options.giveUpAfterHours;
  let waiting = 0;
  for (const item of queues.flat()) {
    const age = now.getTime() - Date.parse(item.value.createdAt);
    if (age < giveUpHours * HOUR_MS) {
      waiting++;
      continue;
    }
    const lastError = `the ${name} sink is no longer configured`;
    const dead: DeliveryRecord = { ...item.value, state: "dead", lastError, settledAt: now.toISOString() };
    const ok = await ctx.store.put("deliveries", item.key, dead, { ifMatch: item.etag });
    if (ok.ok) {
      await ctx.pending.settled(item.value);
      report.gaveUp++;
      ctx.logger.error(
        `Alert given up: ${item.value.notification.event} ${item.value.orderKey} → ${name}: ${lastError}.`,
      );
    }
  }
  report.waiting += waiting;
  if (waiting > 0) {
    ctx.logger.warn(
      `${waiting} alert(s) wait for the ${name} sink, which is not configured any more; they are given up after ${giveUpHours} h.`,
    );
  }
}
