/**
 * Delivery records this process created already claimed, and the etag their
 * creation returned. A record is written leased (`leaseUntil`), so no other
 * driver sends it while the lease holds; the process that wrote it may then
 * send it without a second write to claim it. That claim was one durable write
 * per (alert, sink), a fifth of what an alert cost the store (bench/RESULTS.md,
 * "durable writes per grant.expired").
 *
 * The proof that the claim is still ours is the etag: a record whose etag is
 * the one its creation returned has not been written since, so nobody else
 * has claimed it. Only memory knows that it was this process that created it;
 * a process that stops before sending leaves the record leased, and another
 * driver sends it once the lease runs out, as after a crash mid-send.
 */
import type { StoredItem } from "../state/store.js";
import type { DeliveryRecord } from "./delivery-record.js";

interface Claim {
  etag: string;
  leaseUntilMs: number;
}

export class CreationClaims {
  /** In creation order; every claim has the same lease length, so the oldest lapses first. */
  readonly #claims = new Map<string, Claim>();

  /** A record just created with a lease (`leaseUntil`), with the etag its creation returned. */
  add(item: StoredItem<DeliveryRecord>, nowMs: number): void {
    this.#prune(nowMs);
    const { leaseUntil } = item.value;
    if (leaseUntil === null) return;
    this.#claims.delete(item.key);
    this.#claims.set(item.key, { etag: item.etag, leaseUntilMs: Date.parse(leaseUntil) });
  }

  /**
   * True when this process created the record, it is unchanged since (`etag`), and the lease from
   * its creation still holds: the caller then owns the send. Taken at most once.
   */
  take(id: string, etag: string, nowMs: number): boolean {
    const claim = this.#claims.get(id);
    if (claim === undefined || claim.etag !== etag) return false;
    this.#claims.delete(id);
    return claim.leaseUntilMs > nowMs;
  }

  get size(): number {
    return this.#claims.size;
  }

  /** Claims whose lease lapsed prove nothing any more: any driver may claim those records. */
  #prune(nowMs: number): void {
    for (const [id, claim] of this.#claims) {
      if (claim.leaseUntilMs > nowMs) return;
      this.#claims.delete(id);
    }
  }
}
