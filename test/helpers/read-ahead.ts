/**
 * Read-ahead tests (Graph's application pages, Nylas's grant pages): the first page is answered and
 * the page asked for ahead is refused, so a caller that stops after one page can show that the
 * refusal reaches nobody.
 */
import type { FaultResponse, Fault } from "../../lib/sim/faults.js";
import type { Simulator } from "../../lib/sim/index.js";

export function refuseThePageAhead(
  sim: Simulator,
  where: { service: "graph" | "nylas"; path: string },
  refusal: FaultResponse,
): Fault {
  // A zero delay answers the first request as usual and uses up the first fault.
  sim.faults.add({ ...where, method: "GET", response: { delayMs: 0 } });
  return sim.faults.add({ ...where, method: "GET", response: refusal });
}
