/**
 * recoverRotation removes a key only on positive evidence that it never reached
 * the connector, and keeps (and reports) every key it cannot prove that of. Each
 * rule is pinned on a real file store, with Graph's removePassword recorded.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, MINUTE_MS } from "../../../lib/clock.js";
import type { GraphApplication, GraphClient } from "../../../lib/clients/graph.js";
import { HttpError } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { FileStateStore } from "../../../lib/state/file-store.js";
import { markerFor } from "../../../lib/rotation/marker.js";
import {
  FOREIGN,
  INFLIGHT_KEY,
  loadKeyRecords,
  saveAttempt,
  saveKeyRecord,
  type InflightRecord,
  type KeyRecord,
} from "../../../lib/rotation/records.js";
import { recoverRotation, type RecoveryDeps } from "../../../lib/rotation/recover.js";

const ME = "i-0000000a";
const OTHER = "i-0000000b";
const R1 = "r-20261120T000000Z-aaaaaa";
const R2 = "r-20261122T000000Z-bbbbbb";

let dir: string;
let store: FileStateStore;
let clock: ManualClock;
let removed: string[];
let removeFails: boolean;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "recover-"));
  store = new FileStateStore(dir);
  clock = new ManualClock();
  removed = [];
  removeFails = false;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const graph = {
  removePassword: (_app: string, keyId: string) => {
    if (removeFails) return Promise.reject(new HttpError("forbidden", { service: "graph", statusCode: 403 }));
    removed.push(keyId);
    return Promise.resolve();
  },
} as unknown as GraphClient;

function appWith(...keys: [keyId: string, displayName: string | null][]): GraphApplication {
  return {
    id: "obj",
    appId: "app",
    displayName: null,
    passwordCredentials: keys.map(([keyId, displayName]) => ({
      keyId,
      displayName,
      hint: null,
      startDateTime: null,
      endDateTime: null,
    })),
    keyCredentials: [],
  };
}

function record(keyId: string, state: KeyRecord["state"], extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    v: 1,
    keyId,
    appId: "app",
    appObjectId: "obj",
    rotationId: R1,
    createdAt: "2026-11-20T00:00:00.000Z",
    endDateTime: "2027-05-20T00:00:00.000Z",
    state,
    windowStart: null,
    ...extra,
  };
}

function recover(app: GraphApplication, over: Partial<RecoveryDeps> = {}) {
  return recoverRotation(app, {
    store,
    graph,
    clock,
    logger: silentLogger,
    installationId: ME,
    dryRun: false,
    ...over,
  });
}

async function states(): Promise<Record<string, KeyRecord>> {
  const items = await loadKeyRecords(store, "app");
  return Object.fromEntries(items.map((i) => [i.value.keyId, i.value]));
}

describe("recoverRotation removes only keys that provably never reached Nylas", () => {
  it("removes a marked key whose record still says created, and records it removed", async () => {
    await saveKeyRecord(store, record("k1", "created"));
    const report = await recover(appWith(["k1", markerFor(ME, R1)]));
    expect(report.removedOrphans).toEqual(["k1"]);
    expect(removed).toEqual(["k1"]);
    expect((await states()).k1).toMatchObject({ state: "removed", removedAt: clock.now().toISOString() });
  });

  it("keeps the record as it is when Graph refuses the removal", async () => {
    removeFails = true;
    await saveKeyRecord(store, record("k1", "created"));
    const report = await recover(appWith(["k1", markerFor(ME, R1)]));
    expect(report.removedOrphans).toEqual(["k1"]);
    expect((await states()).k1?.state).toBe("created");
  });

  it("never touches a recorded key without a marker, nor one past created", async () => {
    await saveKeyRecord(store, record("plain", "created"));
    await saveKeyRecord(store, record("k2", "sent", { windowStart: "2026-11-20T00:00:00.000Z" }));
    const report = await recover(appWith(["plain", "my secret"], ["k2", markerFor(ME, R1)]));
    expect(report.removedOrphans).toEqual([]);
    expect(removed).toEqual([]);
  });

  it("without a key record, decides on the attempt record of the rotation that made it", async () => {
    await saveAttempt(store, {
      v: 1,
      rotationId: R1,
      installationId: ME,
      appId: "app",
      startedAt: "2026-11-20T00:00:00.000Z",
      receivedKeyIds: ["received-unsent", "sent"],
      sentKeyId: "sent",
    });
    await saveAttempt(store, {
      v: 1,
      rotationId: R2,
      installationId: OTHER,
      appId: "app",
      startedAt: "2026-11-22T00:00:00.000Z",
      receivedKeyIds: [],
    });
    const report = await recover(
      appWith(
        ["lost-answer", markerFor(ME, R1)],
        ["received-unsent", markerFor(ME, R1)],
        ["sent", markerFor(ME, R1)],
        ["attempt-of-other", markerFor(ME, R2)],
        ["no-attempt", markerFor(ME, "r-20261121T000000Z-cccccc")],
        ["other-installation", markerFor(OTHER, R1)],
      ),
    );
    expect(report.removedOrphans).toEqual(["lost-answer", "received-unsent"]);
    expect(removed).toEqual(["lost-answer", "received-unsent"]);
    expect(report.unprovable).toEqual(["sent", "attempt-of-other", "no-attempt"]);
    expect(await states()).toEqual({});
  });

  it("in a dry run reports the same and changes nothing", async () => {
    await saveKeyRecord(store, record("k1", "created"));
    const report = await recover(appWith(["k1", markerFor(ME, R1)]), { dryRun: true });
    expect(report.removedOrphans).toEqual(["k1"]);
    expect(removed).toEqual([]);
    expect((await states()).k1?.state).toBe("created");
  });
});

describe("recoverRotation after an interrupted rotation", () => {
  const inflight = (extra: Partial<InflightRecord>): InflightRecord => ({
    v: 1,
    rotationId: R2,
    appId: "app",
    appObjectId: "obj",
    phase: "installing",
    keyId: "k2",
    startedAt: "2026-11-22T00:00:00.000Z",
    updatedAt: "2026-11-22T00:00:00.000Z",
    ...extra,
  });

  it("keeps a key whose PATCH may have happened as ambiguous, and clears the in-flight record", async () => {
    await saveKeyRecord(
      store,
      record("k2", "sent", { rotationId: R2, windowStart: "2026-11-22T00:00:00.000Z" }),
    );
    await store.put("rotation", INFLIGHT_KEY, inflight({}));
    const report = await recover(appWith(["k2", markerFor(ME, R2)]));
    expect(report).toMatchObject({ interrupted: R2, markedAmbiguous: ["k2"], removedOrphans: [] });
    expect((await states()).k2).toMatchObject({ state: "sent", ambiguous: true });
    expect(await store.get("rotation", INFLIGHT_KEY)).toBeUndefined();
  });

  it("removes the key of a rotation interrupted before it sent anything", async () => {
    await saveKeyRecord(store, record("k2", "created", { rotationId: R2 }));
    await store.put("rotation", INFLIGHT_KEY, inflight({ phase: "created" }));
    const report = await recover(appWith(["k2", markerFor(ME, R2)]));
    expect(report).toMatchObject({ interrupted: R2, markedAmbiguous: [], removedOrphans: ["k2"] });
    expect(await store.get("rotation", INFLIGHT_KEY)).toBeUndefined();
  });

  it("leaves another app's in-flight record alone; a dry run leaves its own", async () => {
    await store.put("rotation", INFLIGHT_KEY, inflight({ appId: "other-app" }));
    expect((await recover(appWith())).interrupted).toBeUndefined();
    expect(await store.get("rotation", INFLIGHT_KEY)).toBeDefined();

    await store.put("rotation", INFLIGHT_KEY, inflight({}));
    await saveKeyRecord(
      store,
      record("k2", "sent", { rotationId: R2, windowStart: "2026-11-22T00:00:00.000Z" }),
    );
    const report = await recover(appWith(["k2", markerFor(ME, R2)]), { dryRun: true });
    expect(report).toMatchObject({ interrupted: R2, markedAmbiguous: ["k2"] });
    expect(await store.get("rotation", INFLIGHT_KEY)).toBeDefined();
    expect((await states()).k2?.ambiguous).toBeUndefined();
  });

  it("supersedes every key installed or sent before the latest install", async () => {
    await saveKeyRecord(store, record("old", "installed", { installedAt: "2026-11-20T00:00:00.000Z" }));
    await saveKeyRecord(
      store,
      record("new", "installed", { rotationId: R2, installedAt: "2026-11-22T00:00:00.000Z" }),
    );
    await saveKeyRecord(store, record("sent-before", "sent", { windowStart: "2026-11-21T00:00:00.000Z" }));
    await saveKeyRecord(store, record("sent-same", "sent", { windowStart: "2026-11-22T00:00:00.000Z" }));
    await recover(appWith(["old", null], ["new", null], ["sent-before", null], ["sent-same", null]));
    const after = await states();
    for (const k of ["old", "sent-before"])
      expect(after[k]).toMatchObject({
        state: "superseded",
        supersededAt: "2026-11-22T00:00:00.000Z",
        supersededBy: R2,
      });
    expect(after.new?.state).toBe("installed");
    expect(after["sent-same"]?.state).toBe("sent");
  });

  it("counts the foreign record and a key one read missed as installed, but not a deleted one", async () => {
    await saveKeyRecord(store, record("old", "installed", { installedAt: "2026-11-20T00:00:00.000Z" }));
    await saveKeyRecord(store, record(FOREIGN, "installed", { installedAt: "2026-11-21T00:00:00.000Z" }));
    await saveKeyRecord(
      store,
      record("missed", "installed", { rotationId: R2, installedAt: "2026-11-22T00:00:00.000Z" }),
    );
    await recover(appWith(["old", null]));
    let after = await states();
    expect(after.old).toMatchObject({ state: "superseded", supersededBy: R2 });
    expect(after[FOREIGN]).toMatchObject({ state: "superseded", supersededBy: R2 });

    // Once the miss is confirmed, the deleted key no longer counts: the foreign record is the latest.
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), "recover-"));
    store = new FileStateStore(dir);
    await saveKeyRecord(store, record("old", "installed", { installedAt: "2026-11-20T00:00:00.000Z" }));
    await saveKeyRecord(store, record(FOREIGN, "installed", { installedAt: "2026-11-21T00:00:00.000Z" }));
    await saveKeyRecord(
      store,
      record("gone", "installed", { rotationId: R2, installedAt: "2026-11-22T00:00:00.000Z" }),
    );
    const previousRead = {
      at: new Date(clock.now().getTime() - 10 * MINUTE_MS).toISOString(),
      keyIds: ["old"],
    };
    const report = await recover(appWith(["old", null]), { previousRead });
    expect(report.vanished).toEqual(["gone"]);
    after = await states();
    expect(after.gone?.state).toBe("removed");
    expect(after[FOREIGN]?.state).toBe("installed");
    expect(after.old).toMatchObject({ state: "superseded", supersededBy: R1 });
  });
});

describe("recoverRotation and recorded keys missing from the app", () => {
  const minutesAgo = (m: number) => new Date(clock.now().getTime() - m * MINUTE_MS).toISOString();

  beforeEach(async () => {
    await saveKeyRecord(store, record("present", "superseded"));
    await saveKeyRecord(store, record("missing", "superseded"));
    await saveKeyRecord(store, record("done", "removed"));
    await saveKeyRecord(store, record(FOREIGN, "superseded"));
  });

  it("one read proves nothing", async () => {
    const report = await recover(appWith(["present", null]));
    expect(report).toMatchObject({ vanished: [], unconfirmedMissing: ["missing"] });
    expect((await states()).missing?.state).toBe("superseded");
  });

  it("two reads at least five minutes apart that both miss it mark it deleted", async () => {
    const report = await recover(appWith(["present", null]), {
      previousRead: { at: minutesAgo(5), keyIds: ["present"] },
    });
    expect(report).toMatchObject({ vanished: ["missing"], unconfirmedMissing: [] });
    expect((await states()).missing).toMatchObject({
      state: "removed",
      removedAt: clock.now().toISOString(),
    });
  });

  it("a previous read too recent, or one that listed the key, does not confirm", async () => {
    for (const previousRead of [
      { at: minutesAgo(4), keyIds: ["present"] },
      { at: minutesAgo(60), keyIds: ["present", "missing"] },
    ]) {
      const report = await recover(appWith(["present", null]), { previousRead });
      expect(report).toMatchObject({ vanished: [], unconfirmedMissing: ["missing"] });
    }
  });

  it("an app read with no secrets at all is never enough", async () => {
    const report = await recover(appWith(), { previousRead: { at: minutesAgo(60), keyIds: [] } });
    expect(report.vanished).toEqual([]);
    expect(report.unconfirmedMissing.sort()).toEqual(["missing", "present"]);
  });

  it("a dry run reports a confirmed deletion without recording it", async () => {
    const report = await recover(appWith(["present", null]), {
      dryRun: true,
      previousRead: { at: minutesAgo(60), keyIds: [] },
    });
    expect(report.vanished).toEqual(["missing"]);
    expect((await states()).missing?.state).toBe("superseded");
  });
});
