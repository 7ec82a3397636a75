/**
 * serve: signed webhook POSTs under autocannon, beside a bare node:http server and the webhook one
 * layer of serve at a time (bench/layer-servers.ts).
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import autocannon, { type RawRequest } from "autocannon";
import type { Simulator } from "../../lib/sim/index.js";
import { FLOOR_CHILD, SIZES, WATCHDOG, log, scratch, startServerChild } from "../harness.js";
import { NEVER, WEBHOOK_SECRET, unknownTypeDelivery } from "../notifications.js";
import { median, type Figure } from "../table.js";

interface LoadResult {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** The server process's CPU (user + system) per answered request; NaN where /proc is not. */
  cpuUs: number;
}

/** What autocannon sends, request by request. */
type Requests = Parameters<typeof autocannon>[0]["requests"];

/** Rounds of the servers in turn: the machine's pace drifts, and each side sees the same drift. */
const ROUNDS = 3;

interface Side {
  url: string;
  /** The server process's CPU so far (ms). */
  cpuMs(): number;
}

function withLoad(
  server: Side,
  requests: Requests,
): { warmUp(): Promise<void>; measure(seconds: number): Promise<LoadResult> } {
  const options = { url: server.url, connections: 10, requests };
  return {
    async warmUp() {
      await autocannon({ ...options, duration: Math.max(1, SIZES.serveSeconds / 5) }); // JIT, sockets
    },
    async measure(seconds) {
      const cpuBefore = server.cpuMs();
      const result = await autocannon({ ...options, duration: seconds });
      return {
        rps: result.requests.average,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        cpuUs: ((server.cpuMs() - cpuBefore) * 1000) / result.requests.total,
      };
    },
  };
}

/** One server under the load once, after a warm-up. */
async function load(server: Side, requests: Requests): Promise<LoadResult> {
  const side = withLoad(server, requests);
  await side.warmUp();
  return side.measure(SIZES.serveSeconds);
}

/**
 * Servers measured in alternating rounds, each given its best round: interference on a shared
 * machine only ever slows a round down, so the best is the nearest to what each can do, and
 * neither side's figure comes from a quieter minute than the other's. CPU per request is the
 * median of the rounds: it counts the server's own work, which waiting on a shared core does not add to.
 */
async function alternating(sides: { server: Side; requests: Requests }[]): Promise<LoadResult[]> {
  const loads = sides.map((s) => withLoad(s.server, s.requests));
  for (const l of loads) await l.warmUp();
  const rounds: LoadResult[][] = loads.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, l] of loads.entries()) rounds[i]!.push(await l.measure(SIZES.serveSeconds / ROUNDS));
  }
  return rounds.map((results) => {
    const best = results.reduce((a, b) => (b.rps > a.rps ? b : a));
    const sum = (pick: (r: LoadResult) => number) => results.reduce((n, r) => n + pick(r), 0);
    // Every answer of every round counts against the figure, not only the best round's.
    return {
      ...best,
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      cpuUs: median(results.map((r) => r.cpuUs)),
    };
  });
}

/** The load every serve figure is measured with: each request a freshly signed notification of its own. */
const FRESH_UNKNOWN_TYPE_POSTS: Requests = [
  {
    method: "POST",
    path: "/api/nylas/webhook",
    setupRequest: (r) => ({ ...r, ...unknownTypeDelivery() }),
  },
];

async function expectAnswer(url: string, request: RawRequest, status: number, bodyPattern: RegExp) {
  const response = await fetch(`${url}${request.path ?? ""}`, {
    method: request.method ?? "GET",
    ...(request.headers ? { headers: request.headers } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const text = await response.text();
  if (response.status !== status || !bodyPattern.test(text)) {
    throw new Error(`serve answered ${response.status} ${text}; the bench expected ${status} ${bodyPattern}`);
  }
}

export async function serve(sim: Simulator): Promise<Figure[]> {
  log(`serve: autocannon, 10 connections, ${SIZES.serveSeconds} s per side in ${ROUNDS} alternating rounds`);
  const stateDir = mkdtempSync(join(scratch, "serve-state-"));
  const serveEnv = sim.env({
    NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    WATCHDOG_STATE_DIR: stateDir,
    WATCHDOG_SCHEDULE: NEVER,
    GRANT_SWEEP_SCHEDULE: NEVER,
  });
  let floor: LoadResult;
  let handlerOnly: LoadResult;
  let functionsLayer: LoadResult;
  let ignored: LoadResult;
  let duplicate: LoadResult;
  // All four up at once, each idle but for its turn.
  const servers: Awaited<ReturnType<typeof startServerChild>>[] = [];
  const started = async (...args: Parameters<typeof startServerChild>) => {
    const server = await startServerChild(...args);
    servers.push(server);
    return server;
  };
  try {
    const bare = await started([FLOOR_CHILD, "bare-server"], {}, /"url":"([^"]+)"/);
    const bareHandler = await started([FLOOR_CHILD, "handler-server"], serveEnv, /"url":"([^"]+)"/);
    const functions = await started([FLOOR_CHILD, "functions-server"], serveEnv, /"url":"([^"]+)"/);
    const host = await started([WATCHDOG, "serve", "--port", "0"], serveEnv, /listening on (http:\/\/\S+)/);
    await expectAnswer(bareHandler.url, unknownTypeDelivery(), 200, /"ignored"/);
    await expectAnswer(functions.url, unknownTypeDelivery(), 200, /"ignored"/);
    // Verification is on: a forged copy is refused before anything is parsed.
    const forged = unknownTypeDelivery();
    await expectAnswer(
      host.url,
      { ...forged, headers: { ...forged.headers, "x-nylas-signature": "0".repeat(64) } },
      401,
      /invalid signature/,
    );
    await expectAnswer(host.url, unknownTypeDelivery(), 200, /"ignored"/);
    [floor, handlerOnly, functionsLayer, ignored] = (await alternating(
      [bare, bareHandler, functions, host].map((server) => ({ server, requests: FRESH_UNKNOWN_TYPE_POSTS })),
    )) as [LoadResult, LoadResult, LoadResult, LoadResult];

    // Nylas retrying one delivered notification: verified, then de-duplicated through the state store.
    const grant = sim.tenant.nylas.grants[0];
    if (grant === undefined) throw new Error("the simulator has no grant to notify about");
    const built = sim.nylas.buildNotification("grant.updated", grant, { webhookSecret: WEBHOOK_SECRET });
    const retry: RawRequest = {
      method: "POST",
      path: "/api/nylas/webhook",
      body: built.body,
      headers: built.headers,
    };
    await expectAnswer(host.url, retry, 200, /"accepted"/);
    await expectAnswer(host.url, retry, 200, /"duplicate"/);
    duplicate = await load(host, [retry]);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  for (const [name, r] of Object.entries({ floor, handlerOnly, functionsLayer, ignored, duplicate })) {
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`serve (${name}): ${r.non2xx} non-2xx answers, ${r.errors} errors under load`);
  }
  const note = `autocannon, 10 connections, after a warm-up: ${ROUNDS} rounds of ${(SIZES.serveSeconds / ROUNDS).toFixed(1)} s, floor, handler alone, handler through the Functions types and serve in turn, each side's best round; floor = node:http reading the body and answering 200`;
  return [
    {
      name: "serve: verified POSTs, distinct ids, unhandled type (req/s)",
      unit: "req/s",
      measured: ignored.rps,
      floor: floor.rps,
      goal: { kind: "ratio-min", value: 0.5 },
      note,
    },
    {
      name: "serve: p99 latency of the same",
      unit: "ms",
      measured: ignored.p99,
      floor: floor.p99,
      goal: null,
      note,
    },
    {
      name: "webhook handler alone on node:http, same POSTs (req/s)",
      unit: "req/s",
      measured: handlerOnly.rps,
      floor: floor.rps,
      goal: null,
      note: `${note}; receiveNylasWebhook called straight from node:http, without @azure/functions' HttpRequest, InvocationContext and HttpResponse: the handler's own share of serve's time`,
    },
    {
      name: "webhook through the Functions types on node:http, same POSTs (req/s)",
      unit: "req/s",
      measured: functionsLayer.rps,
      floor: floor.rps,
      goal: null,
      note: `${note}; the Function's handler as serve hands it a request (@azure/functions' HttpRequest and InvocationContext, the redacting wrapper, AsyncLocalStorage for the invocation's logger), without serve's routing`,
    },
    ...cpuRows({ floor, handlerOnly, functionsLayer, ignored }),
    {
      name: "serve: one notification re-delivered (dedup via file state) (req/s)",
      unit: "req/s",
      measured: duplicate.rps,
      floor: floor.rps,
      goal: null,
      note: `autocannon, 10 connections, ${SIZES.serveSeconds} s after a warm-up, once, after the rounds above; every answer reads the state store`,
    },
  ];
}

/**
 * CPU per answered request of each server, beside the bare floor's: where `serve`'s time goes by
 * layer (handler, Functions types, serve's routing), less swayed than req/s by the load generator
 * sharing the cores.
 */
function cpuRows(r: Record<"floor" | "handlerOnly" | "functionsLayer" | "ignored", LoadResult>): Figure[] {
  const note = `the server process's CPU (user + system, /proc/<pid>/stat) over the requests it answered, median of the ${ROUNDS} rounds above; floor = the bare node:http server's`;
  const row = (name: string, measured: LoadResult): Figure => ({
    name: `CPU per request: ${name}`,
    unit: "µs",
    measured: measured.cpuUs,
    floor: r.floor.cpuUs,
    goal: null,
    note,
  });
  return [
    row("webhook handler alone on node:http", r.handlerOnly),
    row("webhook through the Functions types", r.functionsLayer),
    row("serve", r.ignored),
  ];
}
