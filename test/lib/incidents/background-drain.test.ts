/**
 * The webhook's background drain: one at a time in the process, another round
 * while answers keep asking, bounded in time, its failures logged and never
 * thrown, and an answer that waits for it only as long as it said.
 */
import { describe, expect, it } from "vitest";
import { BackgroundDrain } from "../../../lib/incidents/background-drain.js";
import { captureLogger } from "./fixtures.js";

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A round that takes `ms` and records when it ran. */
function rounds(ms: number) {
  const log: { start: number; end: number; deadlineMs: number }[] = [];
  let running = 0;
  let overlap = false;
  const round = async (deadlineMs: number) => {
    running++;
    if (running > 1) overlap = true;
    const start = performance.now();
    await tick(ms);
    log.push({ start, end: performance.now(), deadlineMs });
    running--;
  };
  return { log, round, overlapped: () => overlap };
}

describe("BackgroundDrain", () => {
  it("runs one round at a time; requests made during a round get one more round, not one each", async () => {
    const r = rounds(50);
    const drain = new BackgroundDrain(r.round, captureLogger());
    const first = drain.request(10_000);
    await tick(10);
    // Twenty answers while the first round runs: all of them are served by the second round.
    const more = Array.from({ length: 20 }, () => drain.request(10_000));
    await Promise.all([first, ...more]);
    await drain.idle();
    expect(r.overlapped()).toBe(false);
    expect(r.log).toHaveLength(2);
    expect(r.log[1]!.start).toBeGreaterThanOrEqual(r.log[0]!.end);
  });

  it("a request waits at most waitMs; the round goes on and finishes after it", async () => {
    const r = rounds(300);
    const drain = new BackgroundDrain(r.round, captureLogger());
    const started = performance.now();
    await drain.request(50);
    expect(performance.now() - started).toBeLessThan(250);
    expect(r.log).toHaveLength(0);
    await drain.idle();
    expect(r.log).toHaveLength(1);
  });

  it("a failing round is logged, not thrown, and the next request runs again", async () => {
    const logger = captureLogger();
    let calls = 0;
    const drain = new BackgroundDrain(() => {
      calls++;
      return Promise.reject(new Error("state store unavailable"));
    }, logger);
    await expect(drain.request(1_000)).resolves.toBeUndefined();
    await drain.idle();
    await drain.request(1_000);
    expect(calls).toBe(2);
    expect(logger.lines.filter((l) => l.startsWith("error"))).toHaveLength(2);
    expect(logger.lines[0]).toContain("state store unavailable");
  });

  it("stops after maxRunMs however often it is asked, and tells each round the time left", async () => {
    const logger = captureLogger();
    const r = rounds(40);
    const drain = new BackgroundDrain(r.round, logger, 150);
    const started = performance.now();
    // Keep asking: without the bound this would never stop.
    let asking = true;
    const asker = (async () => {
      while (asking) {
        void drain.request(0);
        await tick(5);
      }
    })();
    await tick(20);
    await drain.idle();
    const ranMs = performance.now() - started;
    asking = false;
    await asker;
    await drain.idle();
    expect(ranMs).toBeLessThan(150 + 40 + 100);
    expect(r.log.length).toBeGreaterThanOrEqual(2);
    expect(r.log.every((x) => Number.isInteger(x.deadlineMs) && x.deadlineMs <= 150)).toBe(true);
    expect(r.log[1]!.deadlineMs).toBeLessThan(r.log[0]!.deadlineMs);
    expect(logger.lines.some((l) => l.includes("stopped after"))).toBe(true);
  });
});
