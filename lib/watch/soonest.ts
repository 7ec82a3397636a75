/**
 * The scan keeps only the k credentials that expire soonest (for the table and
 * the pass's attention), however many it reads.
 */
import type { CredentialReport } from "./scan.js";

/** Sort key: expired and soonest first; no end date last. */
function sortKey(r: CredentialReport): number {
  return r.endDateTime === null ? Number.POSITIVE_INFINITY : Date.parse(r.endDateTime);
}

/** A bounded list of the k soonest credentials (insertion into a sorted array: k is small). */
export class Soonest {
  /** Each kept credential beside its `sortKey`: offered every credential, the list must not re-parse dates. */
  readonly #kept: { key: number; report: CredentialReport }[] = [];
  constructor(private readonly k: number) {}
  get items(): CredentialReport[] {
    return this.#kept.map((e) => e.report);
  }
  offer(report: CredentialReport): void {
    const last = this.#kept[this.#kept.length - 1];
    // Whole days left only grow with the end date: more of them than the last kept one has, and the
    // report ends later, so it is not kept; most reports of a large tenant stop here, unparsed.
    if (
      this.#kept.length >= this.k &&
      report.daysLeft !== null &&
      last?.report.daysLeft != null &&
      report.daysLeft > last.report.daysLeft
    )
      return;
    const key = sortKey(report);
    if (this.#kept.length >= this.k && key >= this.#kept[this.#kept.length - 1]!.key) return;
    let i = this.#kept.length;
    while (i > 0 && this.#kept[i - 1]!.key > key) i--;
    this.#kept.splice(i, 0, { key, report });
    if (this.#kept.length > this.k) this.#kept.pop();
  }
}
