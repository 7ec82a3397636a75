/**
 * The V8 setting every CLI command but a long-running one starts with
 * (bin/watchdog.ts), and which the bench's bare scan floor applies too.
 *
 * undici, behind fetch and the Graph SDK, parses HTTP with llhttp compiled to
 * WebAssembly. After a few responses V8 starts optimizing its parser function
 * in the background (about 110 ms of TurboFan on the bench machine), and a
 * process cannot exit before that compile ends: a scan of a small tenant sat
 * idle that long after its last byte was out, for code it would never run. A
 * budget 77 times V8's default (13 million, "bytes executed") leaves the parser
 * on V8's baseline compiler (Liftoff) for as long as a command runs. A scan of
 * 10k apps, which finishes that compile during its run, is no slower for it:
 * 688 against 707 ms without (medians of 12 alternating runs, 2026-12-02).
 */
export const SHORT_RUN_V8_FLAGS = "--wasm-tiering-budget=1000000000";

/**
 * Sets `SHORT_RUN_V8_FLAGS`, before any request. node:http is imported first:
 * its ES module face loads Node's undici, and Node compiles its own modules
 * from a cache V8 rejects once a flag has changed, so undici loaded after the
 * change would take about 25 ms longer (measured 2026-12-02: 46 against 70 ms).
 */
export async function applyShortRunTiering(): Promise<void> {
  await import("node:http");
  const { setFlagsFromString } = await import("node:v8");
  setFlagsFromString(SHORT_RUN_V8_FLAGS);
}
