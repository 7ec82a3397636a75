import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOUR_MS, ManualClock } from "../../../lib/clock.js";
import { HttpError } from "../../../lib/errors.js";
import { newDeliveryRecord } from "../../../lib/incidents/delivery-record.js";
import { createStateStore } from "../../../lib/state/create-store.js";
import { acquireLease } from "../../../lib/state/lease.js";
import {
  MAX_VALUE_BYTES,
  TABLE_NAME,
  TableStateStore,
  decodeRowKey,
  encodeRowKey,
} from "../../../lib/state/table-store.js";
import { DEV_ACCOUNT_KEY, devConnectionString, startAzurite, type Azurite } from "../../helpers/azurite.js";
import { grantSignal, incidentOf, notificationOf } from "../incidents/fixtures.js";
import { costWorld, recordWebhookAnswers } from "../incidents/outbox-cost.js";
import { hookQuarantineWrites, runQuarantineContract } from "./quarantine-contract.js";
import { collect, runStoreContract } from "./store-contract.js";

let azurite: Azurite | undefined;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

function connectionString(): string {
  if (azurite === undefined) throw new Error("Azurite did not start");
  return azurite.connectionString;
}

let tables = 0;
/** A store on a table of its own (created by its first write). */
function freshStore(): TableStateStore {
  return TableStateStore.fromConnectionString(connectionString(), {
    tableName: `t${process.pid}n${++tables}`,
  });
}

runStoreContract("TableStateStore (Azurite)", freshStore);

function rawClient(tableName: string): TableClient {
  return TableClient.fromConnectionString(connectionString(), tableName, { allowInsecureConnection: true });
}

runQuarantineContract("TableStateStore (Azurite)", async (options) => {
  const tableName = `q${process.pid}n${++tables}`;
  const client = rawClient(tableName);
  const store = hookQuarantineWrites(
    new TableStateStore(client, `table ${client.tableName}`, undefined, {
      logger: options.logger,
      clock: options.clock,
    }),
    options.beforeQuarantine,
  );
  await store.put("runs", "seed", 1); // creates the table
  return {
    store,
    corrupt: async (collection, key, raw) => {
      const base = { partitionKey: collection, rowKey: encodeRowKey(key), key };
      await client.upsertEntity(
        raw === undefined ? { ...base, other: "x" } : { ...base, json: raw },
        "Replace",
      );
    },
  };
});

/** Everything a message must not reveal. */
function expectNoSecret(error: unknown, ...secrets: string[]): void {
  const shown = [String(error), JSON.stringify(error), (error as Error).stack ?? ""].join("\n");
  for (const secret of [DEV_ACCOUNT_KEY, ...secrets]) expect(shown).not.toContain(secret);
  expect((error as Error).cause).toBeUndefined();
}

describe("TableStateStore", () => {
  it("uses the watchdogstate table and names the account, not the key", async () => {
    const store = TableStateStore.fromConnectionString(connectionString());
    expect(store.description).toBe(`table ${TABLE_NAME}@devstoreaccount1`);
    expect((await store.put("runs", "default-table", 1)).ok).toBe(true);
    const client = TableClient.fromConnectionString(connectionString(), TABLE_NAME, {
      allowInsecureConnection: true,
    });
    const entity = await client.getEntity<{ key: string; json: string }>("runs", "default-table");
    expect(entity).toMatchObject({ key: "default-table", json: "1" });
  });

  it("accepts UseDevelopmentStorage=true", () => {
    const store = TableStateStore.fromConnectionString("UseDevelopmentStorage=true");
    expect(store.description).toBe(`table ${TABLE_NAME}@devstoreaccount1`);
  });

  it("tolerates another instance creating the table at the same moment", async () => {
    const tableName = `race${process.pid}`;
    const stores = Array.from({ length: 4 }, () =>
      TableStateStore.fromConnectionString(connectionString(), { tableName }),
    );
    const results = await Promise.all(stores.map((store, i) => store.put("runs", `k${i}`, i)));
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it("encodes row keys within the Table rules and reversibly", () => {
    for (const key of ["lease:rotation", "a/b\\c#d?e", "tab\there", "'quote'", "100%", "ü 🙂", "~"]) {
      const rowKey = encodeRowKey(key);
      expect(rowKey).toMatch(/^[A-Za-z0-9_~-]+$/);
      expect(decodeRowKey(rowKey)).toBe(key);
    }
    expect(encodeRowKey("é".repeat(2000)).length).toBeLessThanOrEqual(512);
    expect(encodeRowKey("x".repeat(512))).toBe("x".repeat(512));
    expect(encodeRowKey(`${"x".repeat(512)}a`)).not.toBe(encodeRowKey(`${"x".repeat(512)}b`));
  });

  it("refuses a value over the limit with a clear RangeError, and stores one just under it", async () => {
    const store = freshStore();
    const under = "x".repeat(MAX_VALUE_BYTES / 2 - 10);
    expect((await store.put("incidents", "under", under)).ok).toBe(true);
    expect((await store.get("incidents", "under"))?.value).toBe(under);
    const over = { history: "x".repeat(MAX_VALUE_BYTES / 2) };
    await expect(store.put("incidents", "over", over)).rejects.toThrow(RangeError);
    await expect(store.put("incidents", "over", over)).rejects.toThrow(
      /incidents\/over is 61 KiB .*at most 60 KiB/,
    );
  });

  it("turns an unreachable endpoint into an HttpError that says what to check, without the key", async () => {
    const store = TableStateStore.fromConnectionString(devConnectionString(9), {
      retryOptions: { maxRetries: 0 },
    });
    const error = await store.get("runs", "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ service: "state", statusCode: 0, ambiguous: true });
    expect((error as Error).message).toMatch(/reading runs\/x failed with no response.*firewall/);
    expectNoSecret(error);
  });

  it("turns a wrong account key into a 403 HttpError that says to check the key, without either key", async () => {
    const wrongKey = Buffer.from("not the real key, but shaped like one!!").toString("base64");
    const store = TableStateStore.fromConnectionString(
      devConnectionString(azurite!.port).replace(DEV_ACCOUNT_KEY, wrongKey),
      { retryOptions: { maxRetries: 0 } },
    );
    for (const attempt of [store.put("runs", "x", 1), store.get("runs", "x"), store.delete("runs", "x")]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpError);
      expect(error).toMatchObject({ service: "state", statusCode: 403, code: "AuthorizationFailure" });
      expect((error as HttpError).requestId).toMatch(/\S/);
      expect((error as Error).message).toMatch(/account key or SAS in AzureWebJobsStorage/);
      expectNoSecret(error, wrongKey);
    }
    const listError = await (async () => {
      for await (const _ of store.list("runs")) break;
    })().catch((e: unknown) => e);
    expect(listError).toMatchObject({ service: "state", statusCode: 403 });
  });

  it("refuses http to a non-local host and unparsable strings, without echoing them", () => {
    const remote = `DefaultEndpointsProtocol=http;AccountName=prodaccount;AccountKey=${DEV_ACCOUNT_KEY};EndpointSuffix=core.windows.net`;
    expect(() => TableStateStore.fromConnectionString(remote)).toThrow(/use https/i);
    expectNoSecret(
      (() => {
        try {
          TableStateStore.fromConnectionString(remote);
        } catch (error) {
          return error;
        }
        return undefined;
      })(),
    );
    const garbage = "AccountKey=c2VjcmV0LXZhbHVlLTEyMzQ1Ng==;nonsense";
    let error: unknown;
    try {
      TableStateStore.fromConnectionString(garbage);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/could not be parsed.*Access keys/);
    expectNoSecret(error, "c2VjcmV0LXZhbHVlLTEyMzQ1Ng==");
  });

  it("quarantines an entity without a key of its own under its decoded RowKey, within the size limit", async () => {
    const store = freshStore();
    await store.put("runs", "seed", 1); // creates the table
    const tableName = store.description.slice("table ".length, store.description.indexOf("@"));
    const client = rawClient(tableName);
    // Control characters escape six-fold in JSON: the kept text must still fit one item.
    const huge = "\u0001".repeat(30_000);
    await client.createEntity({ partitionKey: "runs", rowKey: encodeRowKey("no key:1"), json: huge });
    expect(await collect(store.list("runs"))).toHaveLength(1);
    const [item] = await collect(store.list<{ key: string; raw: string; rawChars: number }>("quarantine"));
    expect(item?.value.key).toBe("no key:1");
    expect(item?.value.rawChars).toBe(30_000);
    expect(item?.value.raw.length).toBeGreaterThan(0);
    expect(huge.startsWith(item!.value.raw)).toBe(true);
    expect(await store.get("runs", "no key:1")).toBeUndefined();
  });

  it("lets exactly one of concurrent acquirers take a lease", async () => {
    const store = freshStore();
    const clock = new ManualClock();
    const leases = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        acquireLease(store, "rotation", { holder: `h${i}`, ttlMs: 60_000, clock }),
      ),
    );
    expect(leases.filter((l) => l !== undefined)).toHaveLength(1);
  });

  it("createStateStore builds a table store for a table config", async () => {
    const store = await createStateStore({ kind: "table", connectionString: connectionString() });
    expect(store).toBeInstanceOf(TableStateStore);
    expect((await store.put("runs", "via-factory", true)).ok).toBe(true);
  });
});

// The outbox reads pending deliveries through an index (`outbox` partition): on
// the store Azure runs, a drain's reads do not grow with the delivered records,
// and deliveries written before the index existed still go out, once.
async function drainReads(answers: number) {
  const w = costWorld(freshStore());
  await recordWebhookAnswers(w, answers);
  w.clock.advance(HOUR_MS);
  await w.incidents.raise(grantSignal("g1"));
  w.store.take();
  const report = await w.outbox.deliverPending({ deadlineMs: 20_000 });
  expect(report.delivered).toBe(1);
  return w.store.take();
}

describe("Outbox on TableStateStore: the pending index", () => {
  it("a drain reads the same with 10 or 100 webhook answers on record", async () => {
    const few = await drainReads(10);
    const many = await drainReads(100);
    expect(many).toEqual(few);
    expect(few.deliveries).toBe(1);
  });

  it("delivers deliveries written before the index existed, once", async () => {
    const store = freshStore();
    const w = costWorld(store);
    const now = w.clock.now();
    for (const id of ["old1", "old2"]) {
      const record = newDeliveryRecord(notificationOf(incidentOf(grantSignal(id))), "webhook", now);
      await store.put("deliveries", record.id, record);
    }
    const [a, b] = await Promise.all([
      w.outbox.deliverPending({ deadlineMs: 20_000 }),
      w.newOutbox().deliverPending({ deadlineMs: 20_000 }),
    ]);
    const again = await w.outbox.deliverPending({ deadlineMs: 20_000 });
    expect(a.delivered + b.delivered + again.delivered).toBe(2);
    expect(w.sent).toHaveLength(2);
  });
});
