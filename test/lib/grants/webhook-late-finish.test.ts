/**
 * A notification whose processing overruns PROCESS_BUDGET_MS is answered 503
 * (Nylas delivers it again) while the work goes on. Once that work ends, the
 * event is recorded as processed and the background drain is asked for at
 * once: its alerts do not wait for Nylas's retry, and the retry is a duplicate.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  PROCESS_BUDGET_MS,
  handleNylasWebhook,
  type EventRecord,
  type WebhookDeps,
} from "../../../lib/grants/handle-nylas-webhook.js";
import { signNylasBody } from "../../../lib/grants/verify-nylas-signature.js";
import { loadConfig } from "../../../lib/config.js";
import { ManualClock } from "../../../lib/clock.js";
import { silentLogger } from "../../../lib/logger.js";
import type { Signal } from "../../../lib/incidents/incident.js";
import { MemoryStateStore } from "../incidents/memory-store.js";

const SECRET = "nws_0123456789abcdef0123456789abcdef";

afterEach(() => {
  vi.useRealTimers();
});

function notification(id: string) {
  const body = JSON.stringify({
    specversion: "1.0",
    type: "grant.expired",
    id,
    time: 1_795_000_000,
    data: {
      application_id: "app",
      object: { grant_id: "g-1", email: "a@contoso.com", provider: "microsoft" },
    },
  });
  return {
    method: "POST",
    query: new URLSearchParams(),
    headers: new Headers({ "x-nylas-signature": signNylasBody(body, SECRET) }),
    body: () => Promise.resolve(Buffer.from(body)),
  };
}

describe("nylasWebhook when processing overruns its budget", () => {
  it("answers 503, then marks the event processed and asks for delivery as soon as the work ends", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const store = new MemoryStateStore();
    const raised: Signal[] = [];
    let finishRaise!: () => void;
    const raiseHeld = new Promise<void>((resolve) => (finishRaise = resolve));
    const drains: number[] = [];
    const deps: WebhookDeps = {
      config: loadConfig({
        NYLAS_API_KEY: "nyk_test",
        AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
        NYLAS_WEBHOOK_SECRET: SECRET,
        WATCHDOG_STATE_DIR: "/nonexistent",
      }),
      clock: new ManualClock(new Date("2026-11-23T12:00:00Z")),
      logger: silentLogger,
      store: () => Promise.resolve(store),
      incidents: {
        raise: async (s: Signal) => {
          raised.push(s);
          await raiseHeld;
        },
        resolve: () => Promise.resolve(),
        get: () => Promise.resolve(undefined),
      },
      nylas: {
        getGrant: (id) =>
          Promise.resolve({
            id,
            provider: "microsoft",
            grantStatus: "invalid",
            email: "a@contoso.com",
            scope: [],
            createdAt: 1_700_000_000,
            updatedAt: 1_700_000_000,
            credentialId: undefined,
          }),
      },
      deliverPending: (waitMs) => Promise.resolve(void drains.push(waitMs)),
    };
    const status = async () => (await store.get<EventRecord>("events", "n-1"))?.value.status;

    const answer = handleNylasWebhook(notification("n-1"), deps);
    await vi.waitFor(() => expect(raised).toHaveLength(1));
    await vi.advanceTimersByTimeAsync(PROCESS_BUDGET_MS);
    expect((await answer).status).toBe(503);
    expect(await status()).toBe("received");
    expect(drains).toEqual([]);

    finishRaise();
    await vi.waitFor(() => expect(drains).toEqual([0]));
    expect(await status()).toBe("processed");

    // Nylas's retry of the 503 finds the work done: nothing is raised again.
    const retry = await handleNylasWebhook(notification("n-1"), deps);
    expect(retry.status).toBe(200);
    expect(retry.body).toContain("duplicate");
    expect(raised).toHaveLength(1);
  });
});
