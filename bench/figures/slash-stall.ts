/**
 * slash: valid webhook deliveries to `watchdog serve` while 60 concurrent requests with 16 KB URLs of
 * slashes hit it, beside the same deliveries unloaded. Routing once trimmed trailing slashes with
 * `/\/+$/`, which backtracks from every slash of a run that does not end the path: ~80–280 ms of CPU
 * per such URL, so one wave of 60 held the event loop for seconds, unauthenticated, and every
 * delivery behind it waited. Issue 13's goal: the p99 of a valid delivery stays within 2× its
 * unloaded value. A second, harsher figure repeats the wave every second (shown, no goal): what is
 * left there is the cost of receiving and parsing 16 KB URLs at all, which any server pays.
 */
import { mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Simulator } from "../../lib/sim/index.js";
import { CLI, SIZES, log, scratch, startServerChild } from "../harness.js";
import { percentile, type Figure } from "../table.js";
import { NEVER, WEBHOOK_SECRET, unknownTypeDelivery } from "../notifications.js";

const ATTACKERS = 60;
/**
 * Just under Node's 16 KiB limit on a request's header section (--max-http-header-size), which the
 * URL counts towards: a longer one is refused 431 by the HTTP parser before any of our code runs.
 */
const SLASHES = 16_000;
/** Past the route, so the path reaches the slash trimming; the final "x" is what made the regex backtrack. */
const SLASH_PATH = `/api/nylas/webhook${"/".repeat(SLASHES)}x`;
/** The harsher figure's pace: the old regex needed longer than this for each wave, so it never caught up. */
const WAVE_EVERY_MS = 1_000;
/** Enough waves that /proc's 10 ms CPU ticks round off little. */
const CPU_WAVES = 20;
/** 200 deliveries a second, one at a time: a busy Nylas application, well within what serve answers. */
const DELIVERY_EVERY_MS = 5;

interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** One request on a keep-alive socket, timed from the call to the last byte of the answer. */
function send(agent: Agent, url: URL, method: string, path: string, headers = {}, body?: string) {
  return new Promise<Answer>((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: url.hostname, port: url.port, agent, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A notification type the watchdog does not handle, freshly signed: verified, then answered 200 "ignored". */
function delivery(agent: Agent, url: URL): Promise<Answer> {
  const { body, headers } = unknownTypeDelivery();
  return send(agent, url, "POST", "/api/nylas/webhook", headers, String(body));
}

/** Deliveries one at a time at a steady pace for `seconds`; the latency of each. */
async function deliveries(url: URL, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  try {
    for (let next = performance.now(); next < end; next += DELIVERY_EVERY_MS) {
      await sleep(Math.max(0, next - performance.now()));
      const answer = await delivery(agent, url);
      if (answer.status !== 200)
        throw new Error(`a valid delivery was answered ${answer.status} ${answer.body}`);
      latencies.push(answer.ms);
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}

/** `waves` times, `everyMs` apart, 60 concurrent 16 KB slash URLs on 60 sockets; the latency of each. */
async function attack(url: URL, waves: number, everyMs = WAVE_EVERY_MS): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: ATTACKERS });
  const latencies: number[] = [];
  try {
    for (let wave = 0; wave < waves; wave++) {
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: ATTACKERS }, () => send(agent, url, "GET", SLASH_PATH)),
      );
      for (const a of answers) {
        if (a.status !== 404) throw new Error(`a slash URL was answered ${a.status}, not 404: ${a.body}`);
        latencies.push(a.ms);
      }
      if (wave < waves - 1) await sleep(Math.max(0, started + everyMs - performance.now()));
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}

/** Deliveries for `seconds` while `waves` waves arrive, the first a fifth of the way in. */
async function underAttack(url: URL, seconds: number, waves: number) {
  const [latencies, slashes] = await Promise.all([
    deliveries(url, seconds),
    sleep((seconds * 1000) / 5).then(() => attack(url, waves)),
  ]);
  return { latencies, slashes };
}

export async function slashStall(sim: Simulator): Promise<Figure[]> {
  const seconds = SIZES.serveSeconds;
  log(
    `slash: ${1000 / DELIVERY_EVERY_MS} deliveries/s for ${seconds} s: alone, beside ${ATTACKERS} × 16 KB slash URLs, beside them every second`,
  );
  const env = sim.env({
    NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    WATCHDOG_STATE_DIR: mkdtempSync(join(scratch, "slash-state-")),
    WATCHDOG_SCHEDULE: NEVER,
    GRANT_SWEEP_SCHEDULE: NEVER,
  });
  const host = await startServerChild([CLI, "serve", "--port", "0"], env, /listening on (http:\/\/\S+)/);
  let unloaded: number[];
  let once: { latencies: number[]; slashes: number[] };
  let everySecond: { latencies: number[]; slashes: number[] };
  /** serve's CPU time for waves alone, back to back: nothing else runs in it then. */
  let cpuPerWaveMs: number;
  try {
    const url = new URL(host.url);
    // Warm-up (JIT, sockets), and a check that both kinds of request are answered as the figure assumes.
    await underAttack(url, Math.max(1, seconds / 5), 1);
    unloaded = await deliveries(url, seconds);
    once = await underAttack(url, seconds, 1);
    everySecond = await underAttack(url, seconds, Math.floor((seconds * 1000 * 0.8) / WAVE_EVERY_MS));
    const before = host.cpuMs();
    await attack(url, CPU_WAVES, 0);
    cpuPerWaveMs = (host.cpuMs() - before) / CPU_WAVES;
  } finally {
    await host.stop();
  }
  const waves = everySecond.slashes.length / ATTACKERS;
  const note =
    `${1000 / DELIVERY_EVERY_MS} signed deliveries/s (unhandled type, one at a time, keep-alive) for ${seconds} s after a warm-up, ` +
    `${unloaded.length} of them unloaded (the floor); meanwhile ${ATTACKERS} concurrent GETs of /api/nylas/webhook + ` +
    `${SLASHES.toLocaleString("en-US")} slashes + "x" (each answered 404)`;
  return [
    {
      name: `serve: p99 of a valid delivery, ${ATTACKERS} × 16 KB slash URLs meanwhile`,
      unit: "ms",
      measured: percentile(once.latencies, 0.99),
      floor: percentile(unloaded, 0.99),
      goal: { kind: "ratio-max", value: 2 },
      note: `${note}, once`,
    },
    {
      name: `serve: CPU per wave of ${ATTACKERS} × 16 KB slash URLs`,
      unit: "ms",
      measured: cpuPerWaveMs,
      floor: null,
      goal: null,
      note: `serve's CPU time (/proc, 10 ms ticks) over ${CPU_WAVES} waves of ${ATTACKERS} concurrent 16 KB slash URLs back to back, nothing else sent, per wave; the quadratic regex took ~80–280 ms for each URL, 5–17 s a wave`,
    },
    {
      name: `serve: p99 of a valid delivery, ${ATTACKERS} × 16 KB slash URLs every second`,
      unit: "ms",
      measured: percentile(everySecond.latencies, 0.99),
      floor: percentile(unloaded, 0.99),
      goal: null,
      note: `${note}, ${waves} waves a second apart`,
    },
  ];
}
