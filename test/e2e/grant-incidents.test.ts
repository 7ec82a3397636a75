/**
 * The whole grant story through the real host and the simulator: the
 * connector's Azure secret expires, Nylas invalidates every grant it
 * authenticated and sends `grant.expired`; on-call hears once per grant on
 * every sink, with the expired secret named as the cause and a re-auth link
 * per user; users who follow the link are resolved (after asking Nylas),
 * deleted grants are resolved with a note, the rest repeat every
 * ALERT_REPEAT_HOURS — and `health` shows it all without a secret.
 */
import azureFunctions, { type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS } from "../../lib/clock.js";
import { signNylasBody } from "../../lib/grants/verify-nylas-signature.js";
import { secretWatchdog } from "../../functions/secret-watchdog.js";
import { sweepGrants } from "../../lib/grants/grant-passes.js";
import type { Incident } from "../../lib/incidents/incident.js";
import type { HealthReport } from "../../lib/health.js";
import type { SimGrant } from "../../lib/sim/index.js";
import {
  acceptedAlerts,
  expectAdaptiveCard,
  expectSignedWebhook,
  expectSlackBlockKit,
  oncePerSink,
  tally,
} from "../helpers/alerts.js";
import { capturingLogger, secretsIn, startWorld, type World } from "../helpers/watchdog-world.js";

const { InvocationContext } = azureFunctions;

const MINUTE_MS = 60_000;
let w: World;
let grants: SimGrant[];
const key = (g: SimGrant) => `grant.invalid:${g.id}`;
const incidentOf = async (g: SimGrant): Promise<Incident> =>
  (await w.incidents()).find((i) => i.key === key(g))!;

beforeAll(async () => {
  // A weekly watch schedule: the test moves the clock days past its one pass, which a 6-hourly
  // schedule would rightly call stale (/api/health 503 degraded; test/functions/health-stale.test.ts).
  w = await startWorld({
    seed: { connectorSecretDaysLeft: 1 },
    env: { ALERT_REPEAT_HOURS: "1", WATCHDOG_SCHEDULE: "0 0 0 * * 0" },
  });
  grants = [...w.grants];
  expect(grants).toHaveLength(3);
});

afterAll(async () => {
  await w?.close();
});

describe("grant incidents, end to end", () => {
  it("grant.expired after the connector's secret expired → one critical incident per grant, cause named, re-auth link, once per sink", async () => {
    // The watch pass records the connector's secrets (ids and expiry) the day before they expire.
    const logs = capturingLogger();
    await secretWatchdog(
      { isPastDue: false } as Timer,
      new InvocationContext({ logHandler: (l, ...a) => logs.info(`${l} ${a.join(" ")}`) }),
    );
    const keyId = w.sim.tenant.connectorSecret()!.password!.keyId;

    w.manualClock!.advance(2 * DAY_MS);
    const { expired, deliveries } = await w.sim.nylas.tick();
    expect(expired.map((g) => g.id).sort()).toEqual(grants.map((g) => g.id).sort());
    expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200]);

    for (const g of grants) {
      const incident = await incidentOf(g);
      expect(incident).toMatchObject({ status: "firing", severity: "critical", kind: "grant.invalid" });
      expect(incident.details).toMatchObject({
        grant_id: g.id,
        email: g.email,
        provider: "microsoft",
        last_worked_at: new Date(g.updated_at * 1000).toISOString(),
      });
      expect(incident.summary).toContain(g.email);
      expect(String(incident.details.likely_causes)).toMatch(new RegExp(`client secret ${keyId} expired`));
      const link = new URL(incident.links[0]!.url);
      expect(`${link.origin}${link.pathname}`).toBe(`${w.sim.nylasRegionUrl()}/v3/connect/auth`);
      expect(Object.fromEntries(link.searchParams)).toEqual({
        client_id: w.sim.tenant.nylas.applicationId,
        redirect_uri: w.env.REAUTH_REDIRECT_URI,
        access_type: "online",
        response_type: "code",
        provider: "microsoft",
        login_hint: g.email,
      });
    }

    const alerts = acceptedAlerts(w.sim.sinks.received);
    expect(tally(alerts)).toEqual(oncePerSink(grants.map((g) => ["triggered", key(g)])));
    for (const a of alerts) {
      const link = (await incidentOf(grants.find((g) => key(g) === a.key)!)).links[0]!.url;
      if (a.sink === "slack") expectSlackBlockKit(a.receipt.body);
      if (a.sink === "teams") expectAdaptiveCard(a.receipt.body);
      if (a.sink === "webhook") {
        const body = expectSignedWebhook(a.receipt, w.secrets.ALERT_WEBHOOK_SECRET!);
        expect(body).toMatchObject({
          event: "incident.triggered",
          incident: { key: a.key, status: "firing" },
        });
      }
      if (a.sink === "pagerduty") {
        const body = JSON.parse(a.receipt.body);
        expect(body).toMatchObject({
          event_action: "trigger",
          dedup_key: a.key,
          payload: { severity: "critical" },
        });
      }
      // Every sink carries the user's re-auth link (Slack button, card action, PD link, webhook links).
      expect(a.receipt.body.replaceAll("\\u0026", "&")).toContain(link);
    }
  });

  it("grant.updated for a grant Nylas still reports invalid resolves nothing (notifications are unordered)", async () => {
    const g = grants[0]!;
    const res = await w.deliver(w.build("grant.updated", g));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ outcome: "still-invalid" });
    expect((await incidentOf(g)).status).toBe("firing");
  });

  it("the user follows the re-auth link once the connector has a live secret → Nylas confirms the grant valid → resolved once per sink", async () => {
    const g = grants[0]!;
    const app = w.sim.nylasApp!;
    const fresh = w.sim.tenant.addSecret(app.id, {
      endDateTime: new Date(w.clock.now().getTime() + 180 * DAY_MS),
    });
    w.sim.tenant.nylas.connector!.settings.client_secret = fresh.value;
    w.sim.sinks.clear();
    const before = w.sim.requests.length;

    const link = new URL((await incidentOf(g)).links[0]!.url);
    const result = w.sim.nylas.authorize(Object.fromEntries(link.searchParams));
    expect(result).toMatchObject({ kind: "redirect", pendingExchange: true });
    // Nylas verifies the grant only when the application's callback exchanges the code.
    expect(g.grant_status).toBe("invalid");
    const code = result.kind === "redirect" ? (result.code ?? "") : "";
    expect(w.sim.nylas.redeemCode(code, link.searchParams.get("redirect_uri") ?? undefined)).toMatchObject({
      id: g.id,
      grant_status: "valid",
    });
    await w.sim.nylas.settle();
    expect(w.sim.nylas.deliveries.at(-1)).toMatchObject({ type: "grant.updated", status: 200 });

    // Confirmed with GET /v3/grants/{id} before resolving.
    expect(
      w.sim.requests.slice(before).some((r) => r.method === "GET" && r.path === `/v3/grants/${g.id}`),
    ).toBe(true);
    const incident = await incidentOf(g);
    expect(incident.status).toBe("resolved");
    expect(incident.resolveNote).toContain("re-authenticated");

    const alerts = acceptedAlerts(w.sim.sinks.received);
    expect(tally(alerts)).toEqual(oncePerSink([["resolved", key(g)]]));
    const resolve = JSON.parse(alerts.find((a) => a.sink === "pagerduty")!.receipt.body);
    expect(resolve).toEqual({
      routing_key: w.secrets.PAGERDUTY_ROUTING_KEY,
      event_action: "resolve",
      dedup_key: key(g),
    });
    for (const a of alerts) {
      if (a.sink === "slack") expectSlackBlockKit(a.receipt.body);
      if (a.sink === "teams") expectAdaptiveCard(a.receipt.body);
      if (a.sink === "webhook") expectSignedWebhook(a.receipt, w.secrets.ALERT_WEBHOOK_SECRET!);
    }

    // The same grant.updated again (at-least-once delivery): nothing more.
    const again = w.sim.nylas.deliveries.at(-1)!.body;
    const res = await w.post(again, {
      "content-type": "application/json",
      "x-nylas-signature": signNylasBody(again, w.secrets.NYLAS_WEBHOOK_SECRET!),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: "duplicate" });
    expect(acceptedAlerts(w.sim.sinks.received)).toHaveLength(4);
  });

  it("PagerDuty's resolve carries the dedup_key of its trigger", () => {
    const g = grants[0]!;
    // The trigger was received in the first test; both are in the log of all requests to the sinks.
    const pd = w.sim.requests
      .filter((r) => r.service === "sinks" && r.path === "/pagerduty/v2/enqueue")
      .map((r) => JSON.parse(r.body) as { dedup_key: string; event_action: string });
    const forGrant = pd.filter((b) => b.dedup_key === key(g));
    expect(forGrant.map((b) => b.event_action)).toEqual(["trigger", "resolve"]);
  });

  it("grant.deleted → resolved with a note", async () => {
    const g = grants[1]!;
    w.sim.sinks.clear();
    const [delivery] = await w.sim.nylas.deleteGrant(g.id);
    expect(delivery).toMatchObject({ type: "grant.deleted", status: 200 });
    const incident = await incidentOf(g);
    expect(incident.status).toBe("resolved");
    expect(incident.resolveNote).toMatch(/deleted/);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["resolved", key(g)]]));
  });

  it("an incident still open is repeated every ALERT_REPEAT_HOURS (1 h), not more often; the sweep raises the same key", async () => {
    const g = grants[2]!;
    w.sim.sinks.clear();
    await sweepGrants(w.deps);
    w.manualClock!.advance(59 * MINUTE_MS);
    await sweepGrants(w.deps);
    expect(w.sim.sinks.received).toEqual([]);
    // Still one incident for the key, now also seen by the sweep.
    expect((await w.incidents()).filter((i) => i.key === key(g))).toHaveLength(1);

    w.manualClock!.advance(1 * MINUTE_MS);
    await sweepGrants(w.deps);
    await sweepGrants(w.deps);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(oncePerSink([["repeated", key(g)]]));

    w.manualClock!.advance(HOUR_MS);
    await sweepGrants(w.deps);
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      Object.fromEntries(Object.entries(oncePerSink([["repeated", key(g)]])).map(([k]) => [k, 2])),
    );
    expect((await incidentOf(g)).notifications).toBe(3);
  });

  it("health (function key) shows last runs, open incidents and the next expiry, and no secret", async () => {
    const url = `${w.host!.url}/api/health`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}?code=wrong`)).status).toBe(401);
    const res = await fetch(url, { headers: { "x-functions-key": w.host!.healthKey } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    const report = JSON.parse(text) as HealthReport;
    // The watch pass may have raised secret incidents too; the grant ones are exact.
    expect(report.openIncidents.filter((i) => i.kind === "grant.invalid")).toEqual([
      expect.objectContaining({ key: key(grants[2]!), kind: "grant.invalid", severity: "critical" }),
    ]);
    expect(report.openIncidentCount).toBe(report.openIncidents.length);
    expect(report).toMatchObject({
      status: "attention",
      lastRuns: {
        secretWatchdog: { finishedAt: expect.any(String) },
        grantSweep: { finishedAt: expect.any(String), grants: 2, invalid: 1 },
      },
      nextExpiry: { keyId: expect.any(String), endDateTime: expect.any(String) },
    });
    expect((await fetch(`${url}?code=${encodeURIComponent(w.host!.healthKey)}`)).status).toBe(200);
    expect(secretsIn(text, w.secrets)).toEqual([]);
  });
});
