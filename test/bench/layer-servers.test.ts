/**
 * The serve figure splits `watchdog serve`'s cost by layer (bench/layer-servers.ts): a split means
 * something only if every layer answers a notification exactly as serve does. Checked against serve
 * itself on the simulator; no timing here (`npm run bench` does that).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFunctionsServer, startHandlerServer, type LayerServer } from "../../bench/layer-servers.js";
import { loadTriggers } from "../../bin/triggers.js";
import { loadConfig } from "../../lib/config.js";
import { createDeps } from "../../lib/deps.js";
import { signNylasBody } from "../../lib/grants/verify-nylas-signature.js";
import { startHost } from "../../lib/host/serve.js";
import { silentLogger } from "../../lib/logger.js";
import { startSimulator, type Simulator } from "../../lib/sim/index.js";

const SECRET = "layer-test-webhook-secret-0123456789abcdef";
let sim: Simulator;
let stateDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator();
  stateDir = mkdtempSync(join(tmpdir(), "layer-servers-"));
  env = sim.env({ NYLAS_WEBHOOK_SECRET: SECRET, WATCHDOG_STATE_DIR: stateDir });
});
afterAll(async () => {
  await sim.close();
  rmSync(stateDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

/** A notification of a type the watchdog does not handle, as the serve figure sends them. */
async function post(url: string, secret = SECRET): Promise<Answer> {
  const body = JSON.stringify({
    specversion: "1.0",
    type: "message.created",
    source: "/google/emails/realtime",
    id: randomUUID(),
    time: Math.floor(Date.now() / 1000),
    data: { application_id: "bench", object: { id: randomUUID(), object: "message" } },
  });
  const response = await fetch(`${url}/api/nylas/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-nylas-signature": signNylasBody(body, secret) },
    body,
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  };
}

/** Two notifications (one signed, one forged) through a server, which is closed after. */
async function answers(server: LayerServer): Promise<Answer[]> {
  try {
    return [await post(server.url), await post(server.url, "another-secret-another-secret-0123456789")];
  } finally {
    await server.close();
  }
}

async function serveAnswers(): Promise<Answer[]> {
  const host = await startHost({
    port: 0,
    deps: createDeps(loadConfig(env), silentLogger),
    logger: silentLogger,
    triggers: await loadTriggers(),
    timers: false,
  });
  return answers({ url: host.url, close: () => host.close() });
}

describe("the serve figure's layer servers", () => {
  it("answer a signed notification and a forged one exactly as `watchdog serve` does", async () => {
    const serve = await serveAnswers();
    expect(serve.map((a) => a.status)).toEqual([200, 401]);
    expect(JSON.parse(serve[0]!.body)).toMatchObject({ status: "ignored", type: "message.created" });
    expect(await answers(await startFunctionsServer(env))).toEqual(serve);
    expect(await answers(await startHandlerServer(env))).toEqual(serve);
  });
});
