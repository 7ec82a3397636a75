/**
 * The watchdog pass's migration step says about the migration incident exactly
 * what migration-plan.ts decides (the decision the sweep also asks), so the two
 * cannot word it differently.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { GraphApplication, GraphClient } from "../../../lib/clients/graph.js";
import type { NylasClient, NylasGrant } from "../../../lib/clients/nylas.js";
import { ManualClock } from "../../../lib/clock.js";
import { loadConfig } from "../../../lib/config.js";
import type { Signal } from "../../../lib/incidents/incident.js";
import { silentLogger } from "../../../lib/logger.js";
import { migrationIncidentKey } from "../../../lib/rotation/migrate.js";
import {
  MIGRATION_COMPLETE_NOTE,
  NOTHING_SUPERSEDED_NOTE,
  decideMigrationIncident,
} from "../../../lib/rotation/migration-plan.js";
import { runMigrationStep, type MigrationPorts } from "../../../lib/rotation/migration-step.js";
import { saveKeyRecord, type KeyRecord } from "../../../lib/rotation/records.js";
import { FileStateStore } from "../../../lib/state/file-store.js";

const APP_ID = "11111111-2222-3333-4444-555555555555";
const NOW = new Date("2026-11-23T12:00:00Z");
const SWITCHED = "2026-11-01T00:00:00Z";

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function key(keyId: string, state: KeyRecord["state"], extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    v: 1,
    keyId,
    appId: APP_ID,
    appObjectId: "obj-1",
    rotationId: `rot-${keyId}`,
    createdAt: "2026-10-01T00:00:00Z",
    endDateTime: "2026-12-20T00:00:00Z",
    state,
    windowStart: "2026-10-01T00:00:00Z",
    ...extra,
  };
}

function grant(id: string, updatedAt: string): NylasGrant {
  return {
    id,
    provider: "microsoft",
    grantStatus: "valid",
    email: `${id}@contoso.com`,
    scope: [],
    createdAt: Date.parse("2026-09-01T00:00:00Z") / 1000,
    updatedAt: Date.parse(updatedAt) / 1000,
    credentialId: undefined,
  };
}

const app: GraphApplication = {
  id: "obj-1",
  appId: APP_ID,
  displayName: "Nylas connector",
  passwordCredentials: [],
  keyCredentials: [],
};

/** Runs the step (dry: nothing is written or sent) and records what it did to the migration incident. */
async function step(records: KeyRecord[], grants: NylasGrant[]) {
  dir = mkdtempSync(join(tmpdir(), "migration-step-"));
  const store = new FileStateStore(dir);
  for (const r of records) await saveKeyRecord(store, r);
  const config = loadConfig({
    NYLAS_API_KEY: "nyk_test",
    AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    WATCHDOG_STATE_DIR: dir,
  });
  const nylas = {
    async *listGrantPages() {
      await Promise.resolve();
      yield grants;
    },
  } as unknown as NylasClient;
  const ports: MigrationPorts = {
    config,
    clock: new ManualClock(NOW),
    logger: silentLogger,
    store,
    graph: {} as GraphClient,
    nylas,
    incidents: { announce: () => Promise.reject(new Error("a dry run announces nothing")) },
  };
  const raised: Signal[] = [];
  const resolved: { key: string; note: string }[] = [];
  const outcome = await runMigrationStep(app, { readable: false, lastSignIn: new Map() }, ports, {
    dryRun: true,
    note: () => undefined,
    alerts: { raise: (s) => void raised.push(s), resolve: (k, note) => void resolved.push({ key: k, note }) },
    previousValidGrants: null,
    appReadContradicts: false,
  });
  return { outcome, raised, resolved, config };
}

describe("the migration step's incident", () => {
  it("resolves with the 'nothing superseded' note when no secret is superseded", async () => {
    const { raised, resolved } = await step(
      [key("k-new", "installed")],
      [grant("ana", "2026-10-15T00:00:00Z")],
    );
    expect(raised).toEqual([]);
    expect(resolved).toEqual([{ key: migrationIncidentKey(APP_ID), note: NOTHING_SUPERSEDED_NOTE }]);
  });

  it("raises what the shared decision raises, worded as the sweep words it when it refreshes the counts", async () => {
    const { outcome, raised, resolved, config } = await step(
      [
        key("k-old", "superseded", { supersededAt: SWITCHED, supersededBy: "rot-k-new" }),
        key("k-new", "installed"),
      ],
      [grant("ana", "2026-10-15T00:00:00Z"), grant("ben", "2026-11-10T00:00:00Z")],
    );
    expect(outcome.dependents).toBe(1);
    expect(resolved).toEqual([]);
    expect(raised).toHaveLength(1);
    expect(raised[0]!.summary).toMatch(/^1 Microsoft user\(s\) still on a superseded client secret/);
    const common = { appId: APP_ID, byKey: outcome.byKey, dependents: 1, complete: true, now: NOW, config };
    const pass = decideMigrationIncident({ ...common, plans: outcome.plans });
    const sweep = decideMigrationIncident({
      ...common,
      plans: undefined,
      current: { firing: true, waiting: false },
    });
    expect(pass).toEqual({ action: "raise", key: migrationIncidentKey(APP_ID), signal: raised[0] });
    expect(sweep).toEqual(pass);
  });

  it("resolves as complete once a complete read finds nobody on the superseded secret", async () => {
    const { raised, resolved } = await step(
      [
        key("k-old", "superseded", { supersededAt: SWITCHED, supersededBy: "rot-k-new" }),
        key("k-new", "installed"),
      ],
      [grant("ben", "2026-11-10T00:00:00Z")],
    );
    expect(raised).toEqual([]);
    expect(resolved).toEqual([{ key: migrationIncidentKey(APP_ID), note: MIGRATION_COMPLETE_NOTE }]);
  });
});
