/**
 * The serve figure splits `watchdog serve`'s cost by layer (bench/layer-servers.ts): a split means
 * something only if every layer answers a notification exactly as serve does. Checked against serve
 * itself on the simulator; no timing here (`npm run bench` does that).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFunctionsServer, startHandlerServer, type LayerServer } from "../../bench/layer-servers.js";
import { unknownTypeDelivery, WEBHOOK_SECRET } from "../../bench/notifications.js";
import { loadTriggers } from "../../bin/triggers.js";
import { loadConfig } from "../../lib/config.js";
import { createDeps } from "../../lib/deps.js";
import { startHost } from "../../lib/host/serve.js";
import { silentLogger } from "../../lib/logger.js";
import { startSimulator, type Simulator } from "../../lib/sim/index.js";

let sim: Simulator;
let stateDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator();
  stateDir = mkdtempSync(join(tmpdir(), "layer-servers-"));
  env = sim.env({ NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET, WATCHDOG_STATE_DIR: stateDir });
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

/** A notification of a type the watchdog does not handle, as the serve figure sends it; forged on request. */
async function post(url: string, forged = false): Promise<Answer> {
  const { path, headers, body } = unknownTypeDelivery();
  const response = await fetch(`${url}${path ?? ""}`, {
    method: "POST",
    headers: forged ? { ...headers, "x-nylas-signature": "0".repeat(64) } : headers,
    body: body as string,
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
    return [await post(server.url), await post(server.url, true)];
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
