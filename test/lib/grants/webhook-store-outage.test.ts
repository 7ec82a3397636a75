/**
 * A state store that fails is transient: the answer must be 503, which Nylas
 * retries (408, 429, 502, 503, 504, 507), never a 500 or a 4xx, which it drops.
 * Once the store is back, the same delivery is recorded and processed once.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { handleNylasWebhook, type WebhookDeps } from "../../../lib/grants/handle-nylas-webhook.js";
import { signNylasBody } from "../../../lib/grants/verify-nylas-signature.js";
import { loadConfig } from "../../../lib/config.js";
import { ManualClock } from "../../../lib/clock.js";
import { silentLogger } from "../../../lib/logger.js";
import { FileStateStore } from "../../../lib/state/file-store.js";
import type { StateStore } from "../../../lib/state/store.js";
import type { Signal } from "../../../lib/incidents/incident.js";

const SECRET = "nws_0123456789abcdef0123456789abcdef";

describe("nylasWebhook when the state store fails", () => {
  it("answers 503 while the store is down, and records and raises once when Nylas delivers again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "webhook-outage-"));
    try {
      const real = new FileStateStore(dir);
      let down = true;
      const outage = new Error("table service unavailable (ECONNRESET)");
      const store: StateStore = {
        description: "flaky",
        get: (c, k) => (down ? Promise.reject(outage) : real.get(c, k)),
        put: (c, k, v, o) => (down ? Promise.reject(outage) : real.put(c, k, v, o)),
        delete: (c, k, o) => (down ? Promise.reject(outage) : real.delete(c, k, o)),
        list: (c) => real.list(c),
      };
      const raised: Signal[] = [];
      const deps: WebhookDeps = {
        config: loadConfig({
          NYLAS_API_KEY: "nyk_test",
          AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
          NYLAS_WEBHOOK_SECRET: SECRET,
          WATCHDOG_STATE_DIR: dir,
        }),
        clock: new ManualClock(new Date("2026-11-23T12:00:00Z")),
        logger: silentLogger,
        store: () => Promise.resolve(store),
        incidents: {
          raise: (s: Signal) => Promise.resolve(void raised.push(s)),
          resolve: () => Promise.resolve(),
          get: () => Promise.resolve(undefined),
        },
        nylas: { getGrant: () => Promise.reject(new Error("no answer")) },
        deliverPending: () => Promise.resolve(),
      };
      const body = JSON.stringify({
        specversion: "1.0",
        type: "grant.expired",
        id: "n-1",
        time: 1_795_000_000,
        data: {
          application_id: "app",
          object: { grant_id: "g-1", email: "a@contoso.com", provider: "microsoft" },
        },
      });
      const input = {
        method: "POST",
        query: new URLSearchParams(),
        headers: new Headers({ "x-nylas-signature": signNylasBody(body, SECRET) }),
        body: () => Promise.resolve(Buffer.from(body)),
      };
      const first = await handleNylasWebhook(input, deps);
      expect(first.status).toBe(503);
      expect(raised).toEqual([]);

      down = false;
      const retry = await handleNylasWebhook(input, deps);
      expect(retry.status).toBe(200);
      expect(raised.map((s) => s.key)).toEqual(["grant.invalid:g-1"]);
      expect((await handleNylasWebhook(input, deps)).body).toContain("duplicate");
      expect(raised).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
