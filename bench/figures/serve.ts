/** serve: signed webhook POSTs under autocannon, beside a bare node:http server and the bare handler. */
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import autocannon, { type RawRequest } from "autocannon";
import { signNylasBody } from "../../lib/grants/verify-nylas-signature.js";
import type { Simulator } from "../../lib/sim/index.js";
import { FLOOR_CHILD, SIZES, WATCHDOG, log, scratch, startServerChild } from "../harness.js";
import type { Figure } from "../table.js";

/** Never fires during a bench: `serve`'s timers must not run a pass under load. */
export const NEVER = "0 0 0 1 1 *";

export const WEBHOOK_SECRET = "bench-webhook-secret-0123456789abcdef";

interface LoadResult {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(
  url: string,
  requests: Parameters<typeof autocannon>[0]["requests"],
): Promise<LoadResult> {
  const options = { url, connections: 10, requests };
  await autocannon({ ...options, duration: Math.max(1, SIZES.serveSeconds / 5) }); // warm-up (JIT, sockets)
  const result = await autocannon({ ...options, duration: SIZES.serveSeconds });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** A notification type the watchdog does not handle (answered 200 "ignored" after verification). */
export function unknownTypeDelivery(): RawRequest {
  const body = JSON.stringify({
    specversion: "1.0",
    type: "message.created",
    source: "/google/emails/realtime",
    id: randomUUID(),
    time: Math.floor(Date.now() / 1000),
    webhook_delivery_attempt: 1,
    data: {
      application_id: "bench",
      object: { id: randomUUID(), grant_id: randomUUID(), object: "message", subject: "Quarterly report" },
    },
  });
  return {
    method: "POST",
    path: "/api/nylas/webhook",
    body,
    headers: {
      "content-type": "application/json",
      "x-nylas-signature": signNylasBody(body, WEBHOOK_SECRET),
    },
  };
}

/** The load every serve figure is measured with: each request a freshly signed notification of its own. */
const FRESH_UNKNOWN_TYPE_POSTS: Parameters<typeof autocannon>[0]["requests"] = [
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
  log(`serve: autocannon, 10 connections, ${SIZES.serveSeconds} s per side`);
  const bare = await startServerChild([FLOOR_CHILD, "bare-server"], {}, /"url":"([^"]+)"/);
  let floor: LoadResult;
  try {
    floor = await load(bare.url, FRESH_UNKNOWN_TYPE_POSTS);
  } finally {
    await bare.stop();
  }

  const stateDir = mkdtempSync(join(scratch, "serve-state-"));
  const serveEnv = sim.env({
    NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    WATCHDOG_STATE_DIR: stateDir,
    WATCHDOG_SCHEDULE: NEVER,
    GRANT_SWEEP_SCHEDULE: NEVER,
  });
  const bareHandler = await startServerChild([FLOOR_CHILD, "handler-server"], serveEnv, /"url":"([^"]+)"/);
  let handlerOnly: LoadResult;
  try {
    await expectAnswer(bareHandler.url, unknownTypeDelivery(), 200, /"ignored"/);
    handlerOnly = await load(bareHandler.url, FRESH_UNKNOWN_TYPE_POSTS);
  } finally {
    await bareHandler.stop();
  }

  const host = await startServerChild(
    [WATCHDOG, "serve", "--port", "0"],
    serveEnv,
    /listening on (http:\/\/\S+)/,
  );
  let ignored: LoadResult;
  let duplicate: LoadResult;
  try {
    // Verification is on: a forged copy is refused before anything is parsed.
    const forged = unknownTypeDelivery();
    await expectAnswer(
      host.url,
      { ...forged, headers: { ...forged.headers, "x-nylas-signature": "0".repeat(64) } },
      401,
      /invalid signature/,
    );
    await expectAnswer(host.url, unknownTypeDelivery(), 200, /"ignored"/);
    ignored = await load(host.url, FRESH_UNKNOWN_TYPE_POSTS);

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
    duplicate = await load(host.url, [retry]);
  } finally {
    await host.stop();
  }
  for (const [name, r] of Object.entries({ floor, handlerOnly, ignored, duplicate })) {
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`serve (${name}): ${r.non2xx} non-2xx answers, ${r.errors} errors under load`);
  }
  const note = `autocannon, 10 connections, ${SIZES.serveSeconds} s after a warm-up; floor = node:http reading the body and answering 200`;
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
      name: "serve: one notification re-delivered (dedup via file state) (req/s)",
      unit: "req/s",
      measured: duplicate.rps,
      floor: floor.rps,
      goal: null,
      note: `${note}; every answer reads the state store`,
    },
  ];
}
