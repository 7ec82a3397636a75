/**
 * How long the Functions host lets a pass run, and the budget the watchdog derives from it. The host
 * kills an invocation at host.json's `functionTimeout` ("Azure Functions host.json reference",
 * https://learn.microsoft.com/azure/azure-functions/functions-host-json#functiontimeout), mid-step
 * and without a word: a pass must stop on its own before that. This is the one place that knows the
 * value; a test reads host.json and fails when the two disagree.
 *
 * It sits on the ground floor because both the settings (PROPAGATION_TIMEOUT_SECONDS's cap) and the
 * pass read it.
 */

/** host.json `functionTimeout` ("00:10:00"): the Flex Consumption and Consumption default. */
export const FUNCTION_TIMEOUT_MS = 10 * 60_000;

/**
 * Kept back from the function timeout for what a pass does after it stops working: a request already
 * in flight at the deadline (Nylas's is cut at 30 s), delivering alerts (30 s budget), writing the
 * pass record and releasing the lease.
 */
export const PASS_CLOSING_MARGIN_MS = 2 * 60_000;

/** How long a pass may work: it starts no wait, and no step, that would end later. */
export const PASS_BUDGET_MS = FUNCTION_TIMEOUT_MS - PASS_CLOSING_MARGIN_MS;

/** A rotation beyond its proof: addPassword, the records, the connector PATCH, or removing an unused secret. */
export const ROTATION_OVERHEAD_MS = 60_000;

/** Kept for what comes before a rotation in a pass (the scan, recovery), so a full-length proof still fits. */
export const BEFORE_ROTATION_MS = 2 * 60_000;

/**
 * PROPAGATION_TIMEOUT_SECONDS's ceiling (300 s): a proof that may take longer could never finish
 * inside one pass, so a rotation would never start.
 */
export const MAX_PROPAGATION_TIMEOUT_SECONDS =
  (PASS_BUDGET_MS - BEFORE_ROTATION_MS - ROTATION_OVERHEAD_MS) / 1000;
