/**
 * One grant history, three paths: the webhook handler (as the nylasWebhook
 * function calls it), the sweep and the watchdog pass leave the same incident
 * with the same note, because all three ask the one grant-state decision
 * (lib/grants/grant-state.ts) and the one migration decision
 * (lib/rotation/migration-plan.ts). Each path gets its own simulated world,
 * built the same way; ids that differ between worlds are masked before the
 * records are compared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, type World } from "../../helpers/world.js";
import { HOUR_MS } from "../../../lib/clock.js";
import { receiveNylasWebhook, sweepGrants } from "../../../lib/grants/grant-passes.js";
import { runWatchdogPass } from "../../../lib/watchdog-pass.js";
import type { Incident } from "../../../lib/incidents/incident.js";
import type { GrantNotificationType, SimGrant } from "../../../lib/sim/index.js";

const PATHS = ["webhook", "sweep", "pass"] as const;
type Path = (typeof PATHS)[number];
type Seen = ReturnType<typeof seen>;

const WEBHOOK_SECRET = "nws_grant_state_paths_0123456789abcdef";

interface GrantHistory {
  name: string;
  /** What becomes of the invalid grant in Nylas. */
  then(w: World, grant: SimGrant): Promise<unknown>;
  /** What Nylas notifies about it (the webhook path). */
  notification: GrantNotificationType;
  status: Incident["status"];
  /** The resolve note, with `<email>` for the grant's email. */
  note: string | undefined;
}

const GRANT_HISTORIES: GrantHistory[] = [
  {
    name: "invalid → valid again",
    then: (w, g) => w.sim.nylas.signIn(g.email),
    notification: "grant.updated",
    status: "resolved",
    note: "<email> re-authenticated; Nylas reports the grant valid.",
  },
  {
    name: "invalid → deleted",
    then: (w, g) => w.sim.nylas.deleteGrant(g.id),
    notification: "grant.deleted",
    status: "resolved",
    note: "The grant was deleted: it no longer exists in Nylas, so it can no longer fail; nothing left to do.",
  },
  {
    name: "invalid → still invalid",
    then: () => Promise.resolve(),
    notification: "grant.updated",
    status: "firing",
    note: undefined,
  },
];

/** The record as on-call sees it, with what differs between worlds (ids, ports) masked. */
function seen(w: World, grants: readonly SimGrant[], incident: Incident | undefined) {
  if (incident === undefined) return undefined;
  const { key, kind, status, severity, summary, details, remediation, links, notifications, resolveNote } =
    incident;
  let text = JSON.stringify({
    key,
    kind,
    status,
    severity,
    summary,
    details,
    remediation,
    links,
    notifications,
    resolveNote,
  });
  const masks: [string, string][] = [
    [w.sim.nylasRegionUrl(), "<nylas>"],
    [w.sim.tenant.nylas.applicationId, "<client>"],
    [w.sim.nylasApp!.appId, "<app>"],
    ...grants.map((g, i): [string, string] => [g.id, `<grant ${i}>`]),
  ];
  for (const [value, mask] of masks) text = text.split(value).join(mask);
  return JSON.parse(text) as Record<string, unknown>;
}

async function incident(w: World, key: string): Promise<Incident | undefined> {
  return (await w.deps().incidents()).get(key);
}

/** Delivers what Nylas would send about `grant` to the webhook handler, as the function calls it. */
async function deliver(w: World, type: GrantNotificationType, grant: SimGrant): Promise<void> {
  const built = w.sim.nylas.buildNotification(type, grant, { webhookSecret: WEBHOOK_SECRET });
  const answer = await receiveNylasWebhook(w.deps(), {
    method: "POST",
    query: new URLSearchParams(),
    headers: new Headers(built.headers),
    body: () => Promise.resolve(built.bodyBytes),
  });
  expect(answer.status).toBe(200);
}

const worlds: World[] = [];
async function world(options: Parameters<typeof startWorld>[0] = {}): Promise<World> {
  const w = await startWorld({ ...options, env: { NYLAS_WEBHOOK_SECRET: WEBHOOK_SECRET, ...options.env } });
  worlds.push(w);
  return w;
}
afterAll(async () => {
  for (const w of worlds) await w.close();
});

describe("grant incidents: the same history through the webhook, the sweep and the pass", () => {
  /** Per path, per history: the incident afterwards, and the email its note names. */
  const after = new Map<Path, Map<string, { record: Seen; email: string }>>();

  /** One world per path; each seeded grant lives one history, so one run of the path sees them all. */
  async function live(path: Path) {
    const w = await world({ env: { ROTATION: "off" } });
    // Held here: a deleted grant leaves the simulator's list, not this one.
    const grants = w.sim.tenant.nylas.grants.slice(0, GRANT_HISTORIES.length);
    expect(grants).toHaveLength(GRANT_HISTORIES.length);
    // Every grant goes invalid and the sweep opens its incident: the same start for every path.
    for (const g of grants) await w.sim.nylas.expireGrant(g.id);
    await sweepGrants(w.deps());
    for (const [i, h] of GRANT_HISTORIES.entries()) await h.then(w, grants[i]!);
    w.clock.advance(HOUR_MS);
    if (path === "webhook")
      for (const [i, h] of GRANT_HISTORIES.entries()) await deliver(w, h.notification, grants[i]!);
    if (path === "sweep") await sweepGrants(w.deps());
    if (path === "pass") await runWatchdogPass(w.deps());
    const out = new Map<string, { record: Seen; email: string }>();
    for (const [i, h] of GRANT_HISTORIES.entries()) {
      const g = grants[i]!;
      const record = seen(w, grants, await incident(w, `grant.invalid:${g.id}`));
      out.set(h.name, { record, email: g.email });
    }
    return out;
  }

  beforeAll(async () => {
    for (const path of PATHS) after.set(path, await live(path));
  }, 120_000);

  it.each(GRANT_HISTORIES)("$name", (h) => {
    const records = PATHS.map((path) => after.get(path)!.get(h.name)!);
    const { email } = records[0]!;
    expect(records[0]!.record).toMatchObject({ kind: "grant.invalid", status: h.status });
    expect(records[0]!.record?.resolveNote).toBe(h.note?.replace("<email>", email));
    for (const [i, path] of PATHS.entries())
      expect({ path, record: records[i]!.record }).toEqual({ path, record: records[0]!.record });
  });
});

describe("the migration incident: waiting → done", () => {
  const after = new Map<Path, Seen>();

  /**
   * A rotation leaves the seeded users on the superseded secret; with Entra's sign-in report readable the
   * pass waits (REAUTH_DEFER_HOURS) before asking anyone. Then every user signs in again.
   */
  async function live(path: Path) {
    const w = await world({ seed: { connectorSecretDaysLeft: 30 } });
    const grants = [...w.sim.tenant.nylas.grants];
    w.sim.tenant.grantAppRole(w.sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    expect((await runWatchdogPass(w.deps())).rotation.decision).toBe("rotated");
    w.clock.advance(HOUR_MS);
    await w.sim.nylas.tick(); // Nylas refreshes the grants: Entra sees the old secret in use
    const waiting = await runWatchdogPass(w.deps());
    expect(waiting.migration.plans?.map((p) => p.verdict)).toEqual(["waiting"]);
    const key = `secret.migration:${w.sim.nylasApp!.appId}`;
    expect((await incident(w, key))?.details.waiting_until).toEqual(expect.any(String));

    w.clock.advance(2 * HOUR_MS);
    for (const g of w.sim.tenant.nylas.grants) await w.sim.nylas.signIn(g.email);
    w.clock.advance(HOUR_MS);
    if (path === "webhook") for (const g of w.sim.tenant.nylas.grants) await deliver(w, "grant.updated", g);
    if (path === "sweep") await sweepGrants(w.deps());
    if (path === "pass") await runWatchdogPass(w.deps());
    return seen(w, grants, await incident(w, key));
  }

  beforeAll(async () => {
    for (const path of PATHS) after.set(path, await live(path));
  }, 120_000);

  it("the sweep and the pass resolve it with the same record and note", () => {
    expect(after.get("sweep")).toMatchObject({
      status: "resolved",
      resolveNote:
        "Migration complete: 0 users left on the old secret; every valid grant uses the current one.",
    });
    expect(after.get("pass")).toEqual(after.get("sweep"));
  });

  it("the webhook, which sees one grant at a time, leaves it to them: still waiting", () => {
    expect(after.get("webhook")).toMatchObject({
      status: "firing",
      details: { waiting_until: expect.any(String) },
    });
  });
});
