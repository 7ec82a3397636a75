/**
 * What bounds alert throughput on a laptop: the file store's durable writes.
 *
 * 1. Durable writes a second: `FileStateStore.put` (a create, 16 at a time,
 *    as serve's concurrent answers and sinks issue them) beside the least code
 *    that makes a record durable (temp file written and fsynced, linked into
 *    place, the directory fsynced; the store opens its temp file with O_DSYNC
 *    instead of the separate fsync, where the platform has it).
 * 2. Durable writes per `grant.expired`, all four sinks healthy: the product's
 *    own webhook path in this process, on a counting store, drained to the end.
 * 3. Their quotient: how many `grant.expired` a second this store can carry on
 *    this disk, with nothing else running, beside the alert figure's 200/s.
 */
import { randomBytes } from "node:crypto";
import { promises as fs, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../../lib/config.js";
import { createDeps } from "../../lib/deps.js";
import { receiveNylasWebhook } from "../../lib/grants/grant-passes.js";
import { silentLogger } from "../../lib/logger.js";
import type { Simulator } from "../../lib/sim/index.js";
import { FileStateStore } from "../../lib/state/file-store.js";
import type { StateStore } from "../../lib/state/store.js";
import { SIZES, log, scratch } from "../harness.js";
import type { Figure } from "../table.js";
import { RATE_PER_S, allSinks } from "./alert-latency.js";
import { NEVER, WEBHOOK_SECRET } from "../notifications.js";

const CONCURRENCY = 16;

/** Runs `count` calls of `one`, `CONCURRENCY` at a time; calls a second. */
async function rate(count: number, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return (count / (performance.now() - started)) * 1000;
}

/**
 * The least code that makes one small record durable: as the store does, but with the temp file's
 * fsync as a call of its own (the store opens it with O_DSYNC since 2026-12-02; the floor was kept
 * as it was, so its column compares across that change).
 */
async function bareDurableCreate(dir: string, i: number): Promise<void> {
  const temp = join(dir, `.t${i}-${randomBytes(6).toString("hex")}`);
  const handle = await fs.open(temp, "wx", 0o600);
  await handle.writeFile(`{"key":"k${i}","etag":"e","value":{"n":${i}}}\n`);
  await handle.sync();
  await handle.close();
  await fs.link(temp, join(dir, `k${i}.json`));
  await fs.unlink(temp);
  const d = await fs.open(dir, "r");
  await d.sync();
  await d.close();
}

/** A store that counts the writes (puts and deletes) that reach the file store. */
function counting(store: StateStore): { store: StateStore; writes: () => number } {
  let writes = 0;
  const counted: StateStore = {
    description: store.description,
    get: (c, k) => store.get(c, k),
    list: (c) => store.list(c),
    put: (c, k, v, o) => {
      writes++;
      return store.put(c, k, v, o);
    },
    delete: (c, k, o) => {
      writes++;
      return store.delete(c, k, o);
    },
  };
  return { store: counted, writes: () => writes };
}

/** Durable writes per grant.expired: the webhook path on a counting store, every delivery sent. */
async function writesPerNotification(sim: Simulator, count: number): Promise<number> {
  const { store, writes } = counting(new FileStateStore(mkdtempSync(join(scratch, "ceiling-alert-"))));
  const config = loadConfig(
    sim.env({
      NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET,
      WATCHDOG_SCHEDULE: NEVER,
      GRANT_SWEEP_SCHEDULE: NEVER,
      ...allSinks(sim),
    }),
  );
  const deps = createDeps(config, silentLogger, { store: () => Promise.resolve(store) });
  for (let i = 0; i < count; i++) sim.tenant.nylas.addGrant({ email: `ceiling.user${i}@contoso.com` });
  const grants = sim.tenant.nylas.grants.filter((g) => g.email.startsWith("ceiling.user")).slice(0, count);
  sim.sinks.clear();
  for (const grant of grants) {
    const built = sim.nylas.buildNotification("grant.expired", grant, { webhookSecret: WEBHOOK_SECRET });
    const answer = await receiveNylasWebhook(deps, {
      method: "POST",
      query: new URLSearchParams(),
      headers: { get: (name) => built.headers[name.toLowerCase()] ?? null },
      body: () => Promise.resolve(built.bodyBytes),
    });
    if (answer.status !== 200)
      throw new Error(`store ceiling: webhook answered ${answer.status}: ${answer.body}`);
  }
  const incidents = await deps.incidents();
  await incidents.deliver({ deadlineMs: 30_000 });
  const sent = sim.sinks.of("pagerduty").length;
  if (sent < count) throw new Error(`store ceiling: ${sent} of ${count} PagerDuty events sent`);
  return writes() / count;
}

export async function storeCeiling(sim: Simulator): Promise<Figure[]> {
  // As many records as the alert figure's POSTs.
  const count = SIZES.alertSeconds * RATE_PER_S;
  log(`store ceiling: ${count} durable creates ${CONCURRENCY} at a time, bare and through the file store`);
  const bareDir = mkdtempSync(join(scratch, "ceiling-bare-"));
  const store = new FileStateStore(mkdtempSync(join(scratch, "ceiling-store-")));
  // Alternating rounds, each side's best: the disk's pace drifts with whatever else it serves.
  const bare: number[] = [];
  const product: number[] = [];
  for (let round = 0; round < 3; round++) {
    bare.push(await rate(count, (i) => bareDurableCreate(bareDir, round * count + i)));
    product.push(
      await rate(count, (i) => store.put("events", `r${round}-${i}`, { n: i }, { ifNotExists: true })),
    );
  }
  const perSecond = Math.max(...product);
  const notifications = Math.max(20, SIZES.alertSeconds * 5);
  const perNotification = await writesPerNotification(sim, notifications);
  const how = `${count} creates of a small record, ${CONCURRENCY} at a time, best of 3 rounds alternating with the floor; floor = the same records made durable by bare Node (temp file written and fsynced, linked into place, directory fsynced)`;
  return [
    {
      name: `file store: durable writes a second, ${CONCURRENCY} at a time`,
      unit: "writes/s",
      measured: perSecond,
      floor: Math.max(...bare),
      goal: null,
      note: how,
    },
    {
      name: "file store: durable writes per grant.expired, 4 sinks",
      unit: "writes",
      measured: perNotification,
      floor: null,
      goal: null,
      note: `${notifications} signed grant.expired through the product's webhook path in the bench's process (receiveNylasWebhook), every sink healthy, drained until each alert was sent; puts and deletes counted at the store`,
    },
    {
      name: "file store: grant.expired a second it can carry on this disk",
      unit: "req/s",
      measured: perSecond / perNotification,
      floor: null,
      goal: {
        kind: "min",
        value: RATE_PER_S,
        label: `≥ ${RATE_PER_S}/s (the alert figure's rate)`,
      },
      note: "the two rows above divided: the store's writes a second over its writes per notification, with nothing else using the disk or the cores",
    },
  ];
}
