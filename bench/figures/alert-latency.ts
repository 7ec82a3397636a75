/**
 * End-to-end alert latency: from a signed grant.expired POST leaving the bench
 * to the PagerDuty event reaching the simulator's PagerDuty receiver, under a
 * steady 200 notifications/s to `watchdog serve` (the bundled CLI), every one
 * about a different grant, with Slack answering 2 s late and Teams, PagerDuty
 * and the generic webhook healthy. The floor is bench/alert-floor.ts, bare Node
 * with no state doing the same HTTP, under the same slow sink: what the machine
 * itself allows at that rate. A row of the product's own run with every sink
 * healthy shows what the slow sink costs the others (it must not delay them).
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { grantIdOfIncidentKey } from "../../lib/grants/grant-signals.js";
import { SINK_NAMES } from "../../lib/incidents/incident.js";
import type { SimGrant, Simulator, SinkName } from "../../lib/sim/index.js";
import { ALERT_FLOOR, CLI, SIZES, log, scratch, startServerChild } from "../harness.js";
import { percentile, type Figure } from "../table.js";
import { NEVER, WEBHOOK_SECRET } from "../notifications.js";

/** The rate; the store-ceiling figure holds the file store to it too. */
export const RATE_PER_S = 200;
/**
 * A rate this file store sustains on the bench machine (2 cores, one disk): each alert is about 16
 * durable writes (the event, the incident and its listings, and per sink its record and settlement).
 */
const SUSTAINED_PER_S = 20;
const SLOW_SINK: SinkName = "slack";
const SLOW_MS = 2_000;
/** What arrives later than this after the last POST is counted as never delivered. */
const DRAIN_MS = SLOW_MS + 8_000;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The grant an alert is about: PagerDuty's dedup_key is the incident key; the others name the grant id. */
function grantOf(sink: SinkName, body: string, sent: ReadonlyMap<string, number>): string | undefined {
  if (sink === "pagerduty") {
    const key = (JSON.parse(body) as { dedup_key?: string }).dedup_key;
    return key === undefined ? undefined : grantIdOfIncidentKey(key);
  }
  return body.match(UUID)?.find((id) => sent.has(id));
}

/** All four sinks, on the simulator's receivers. */
export function allSinks(sim: Simulator): Record<string, string> {
  return {
    SLACK_WEBHOOK_URL: sim.sinks.urls.slack,
    TEAMS_WEBHOOK_URL: sim.sinks.urls.teams,
    PAGERDUTY_EVENTS_URL: sim.sinks.urls.pagerduty,
    PAGERDUTY_ROUTING_KEY: "R0UT1NGKEY0000000000000000000000",
    ALERT_WEBHOOK_URL: sim.sinks.urls.webhook,
    ALERT_WEBHOOK_SECRET: "bench-alert-webhook-secret",
  };
}

type Latencies = Record<SinkName, number[]>;

/** Per sink, each notification's time from its POST to the sink's receipt (Infinity: never received). */
function latenciesOf(sim: Simulator, sent: ReadonlyMap<string, number>): Latencies {
  const latencies: Latencies = { slack: [], teams: [], pagerduty: [], webhook: [] };
  for (const sink of Object.keys(latencies) as SinkName[]) {
    const arrived = new Map<string, number>();
    for (const r of sim.sinks.of(sink)) {
      const grant = r.status < 300 ? grantOf(sink, r.body, sent) : undefined;
      if (grant !== undefined && !arrived.has(grant)) arrived.set(grant, r.at.getTime());
    }
    for (const [grant, at] of sent) latencies[sink].push((arrived.get(grant) ?? Infinity) - at);
  }
  return latencies;
}

/** Where the run's CPU went: serve, or this process (the simulator's Nylas and sinks, and the load itself). */
function logCpuShare(wallMs: number, bench: NodeJS.CpuUsage, serveMs: number): void {
  const benchMs = (bench.user + bench.system) / 1000;
  const share = (ms: number) =>
    `${(ms / 1000).toFixed(1)} s (${Math.round((100 * ms) / (benchMs + serveMs))} %)`;
  log(
    `alert latency: CPU over ${(wallMs / 1000).toFixed(1)} s of load and drain: serve ${share(serveMs)}, the bench process (simulator + load) ${share(benchMs)}`,
  );
}

/** What takes the POSTs: its command, and the settings it needs beyond the webhook secret and the sinks. */
interface Server {
  args: string[];
  env: Record<string, string>;
}

/** `watchdog serve` (the bundle), on a state directory of its own, with no timer firing. */
const product = (): Server => ({
  args: [CLI, "serve", "--port", "0"],
  env: {
    WATCHDOG_STATE_DIR: mkdtempSync(join(scratch, "alert-state-")),
    WATCHDOG_SCHEDULE: NEVER,
    GRANT_SWEEP_SCHEDULE: NEVER,
  },
});

/** The bare floor, sending bodies of the product's sizes (`bodyBytes`). */
const floor = (sinkBytes: string): Server => ({ args: [ALERT_FLOOR], env: { BENCH_SINK_BYTES: sinkBytes } });

async function run(
  sim: Simulator,
  all: SimGrant[],
  slow: boolean,
  ratePerS: number,
  server: Server = product(),
): Promise<Latencies> {
  const [warm, ...grants] = all;
  if (warm === undefined) throw new RangeError("no grants to notify about");
  const fault = slow
    ? sim.faults.add({
        service: "sinks",
        path: new RegExp(`^/${SLOW_SINK}/`),
        times: Infinity,
        response: { delayMs: SLOW_MS },
      })
    : undefined;
  const host = await startServerChild(
    server.args,
    sim.env({ NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET, ...allSinks(sim), ...server.env }),
    /listening on (http:\/\/\S+)/,
  );
  const sent = new Map<string, number>();
  const answers: Promise<number>[] = [];
  let firstRefusal: string | undefined;
  try {
    // One notification first, unmeasured: the first one loads the SDKs, opens the state store, gets a token.
    const first = sim.nylas.buildNotification("grant.expired", warm, { webhookSecret: WEBHOOK_SECRET });
    await fetch(`${host.url}/api/nylas/webhook`, {
      method: "POST",
      headers: first.headers,
      body: first.body,
    });
    const ready = Date.now() + DRAIN_MS;
    while (sim.sinks.of("pagerduty").length === 0) {
      if (Date.now() > ready)
        throw new Error(`serve sent no PagerDuty event:\n${host.output().slice(-2000)}`);
      await sleep(20);
    }
    sim.sinks.clear();
    const cpuBefore = { bench: process.cpuUsage(), serve: host.cpuMs() };
    const started = Date.now();
    for (let i = 0; i < grants.length; i++) {
      // A steady rate, not a burst: each POST at its slot, however long earlier ones take.
      const wait = started + (i * 1000) / ratePerS - Date.now();
      if (wait > 0) await sleep(wait);
      const grant = grants[i]!;
      const built = sim.nylas.buildNotification("grant.expired", grant, { webhookSecret: WEBHOOK_SECRET });
      sent.set(grant.id, Date.now());
      answers.push(
        fetch(`${host.url}/api/nylas/webhook`, {
          method: "POST",
          headers: built.headers,
          body: built.body,
        }).then(
          async (r) => {
            const text = await r.text();
            if (r.status !== 200) firstRefusal ??= `${r.status} ${text}`;
            return r.status;
          },
          (error: unknown) => {
            firstRefusal ??= String(error);
            return 0;
          },
        ),
      );
    }
    const statuses = await Promise.all(answers);
    const refused = statuses.filter((s) => s !== 200).length;
    if (refused > 0)
      log(
        `alert latency: ${refused} of ${statuses.length} POSTs not answered 200, the first: ${firstRefusal ?? ""}; serve's last words:\n${host.output().slice(-600)}`,
      );
    const deadline = Date.now() + DRAIN_MS;
    while (sim.sinks.of("pagerduty").length < grants.length && Date.now() < deadline) await sleep(50);
    logCpuShare(Date.now() - started, process.cpuUsage(cpuBefore.bench), host.cpuMs() - cpuBefore.serve);
  } finally {
    await host.stop();
    if (fault !== undefined) sim.faults.remove(fault);
  }
  return latenciesOf(sim, sent);
}

/** Per sink, the median size of the bodies it received, as "sink=bytes,…" for the floor. */
function bodyBytes(sim: Simulator): string {
  return SINK_NAMES.map((sink) => {
    const sizes = sim.sinks.of(sink).map((r) => Buffer.byteLength(r.body));
    return `${sink}=${Math.round(percentile(sizes, 0.5))}`;
  }).join(",");
}

/**
 * Three runs at one rate: the product with every sink healthy, then with one slow, then the bare
 * floor with the same sink as slow. The rows compare the product with the floor under the same
 * slow sink; the all-healthy run shows what the slow sink costs the others.
 */
async function atRate(sim: Simulator, ratePerS: number, seconds: number, label: string): Promise<Figure[]> {
  const count = seconds * ratePerS;
  const valid = () => sim.tenant.nylas.grants.filter((g) => g.grant_status === "valid");
  for (let i = valid().length; i <= count; i++)
    sim.tenant.nylas.addGrant({ email: `alert.user${i}@contoso.com` });
  const grants = valid().slice(0, count + 1);
  log(
    `alert latency: ${ratePerS} grant.expired/s for ${seconds} s, all sinks healthy, then ${SLOW_SINK} ${SLOW_MS / 1000} s slow, then the floor with ${SLOW_SINK} as slow`,
  );
  const healthy = await run(sim, grants, false, ratePerS);
  const sinkBytes = bodyBytes(sim);
  const slow = await run(sim, grants, true, ratePerS);
  const bare = await run(sim, grants, true, ratePerS, floor(sinkBytes));
  const lost = (l: number[]) => l.filter((v) => v === Infinity).length;
  const note = `${count} signed grant.expired POSTs to \`watchdog serve\` (the bundle), ${ratePerS}/s, each about another grant; from the POST leaving to the sink receiving the alert (simulator receipt time); ${lost(slow.pagerduty)} PagerDuty event(s) not received within ${DRAIN_MS / 1000} s (floor: ${lost(bare.pagerduty)}); floor = bench/alert-floor.ts, bare Node without state: it checks the signature, asks Nylas for the grant, answers, and posts to each sink bodies of the product's size, with ${SLOW_SINK} as slow`;
  const row = (name: string, sink: SinkName, q: number, goal: Figure["goal"]): Figure => ({
    name: `alert latency${label}, ${name}`,
    unit: "ms",
    measured: percentile(slow[sink], q),
    floor: percentile(bare[sink], q),
    goal,
    note,
  });
  const p99Goal: Figure["goal"] = { kind: "max", value: 250 };
  return [
    row(`POST → PagerDuty, ${SLOW_SINK} 2 s slow: p50`, "pagerduty", 0.5, null),
    row(`POST → PagerDuty, ${SLOW_SINK} 2 s slow: p99`, "pagerduty", 0.99, p99Goal),
    row(`POST → Teams, same run: p99`, "teams", 0.99, p99Goal),
    row(`POST → webhook, same run: p99`, "webhook", 0.99, p99Goal),
    row(`${SLOW_SINK} (${SLOW_MS / 1000} s slow) itself: p50`, SLOW_SINK, 0.5, null),
    {
      name: `alert latency${label}, POST → PagerDuty, every sink healthy: p99`,
      unit: "ms",
      measured: percentile(healthy.pagerduty, 0.99),
      floor: null,
      goal: null,
      note: `the product's run before the one above, with no slow sink: what a slow sink costs the others is the difference; ${lost(healthy.pagerduty)} PagerDuty event(s) not received within ${DRAIN_MS / 1000} s`,
    },
  ];
}

export async function alertLatency(sim: Simulator): Promise<Figure[]> {
  return [
    ...(await atRate(sim, RATE_PER_S, SIZES.alertSeconds, "")),
    // Three times as long: a p99 of 200 alerts is their second-slowest, one disk stall away from moving.
    ...(await atRate(sim, SUSTAINED_PER_S, SIZES.alertSeconds * 3, ` at ${SUSTAINED_PER_S}/s`)),
  ];
}
