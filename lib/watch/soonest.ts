/**
 * The scan keeps only the k credentials that expire soonest (for the table and
 * the pass's attention), however many it reads.
 */
/** What the list reads of a report: when it ends, and its whole days left as of the scan's `now`. */
export interface Ending {
  endDateTime: string | null;
  daysLeft: number | null;
}

/** Sort key: expired and soonest first; no end date last. */
function sortKey(r: Ending): number {
  return r.endDateTime === null ? Number.POSITIVE_INFINITY : Date.parse(r.endDateTime);
}

/** A bounded list of the k soonest credentials (insertion into a sorted array: k is small). */
export class Soonest<T extends Ending> {
  /** Each kept credential beside its `sortKey`: offered every credential, the list must not re-parse dates. */
  readonly #kept: { key: number; report: T }[] = [];
  constructor(private readonly k: number) {}
  get items(): T[] {
    return this.#kept.map((e) => e.report);
  }
  offer(report: T): void {
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
    if (this.#kept.length >= this.k && key >= last!.key) return;
    let i = this.#kept.length;
    while (i > 0 && this.#kept[i - 1]!.key > key) i--;
    this.#kept.splice(i, 0, { key, report });
    if (this.#kept.length > this.k) this.#kept.pop();
  }
}
