import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { requestToken } from "../../helpers/entra-token.js";
import { ManualClock, DAY_MS } from "../../../lib/clock.js";
import { startSimulator, type SimApp, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;
const clock = new ManualClock(new Date("2026-12-01T09:00:00Z"));
const HOUR_MS = 3_600_000;

interface Activity {
  id: string;
  appId: string;
  appObjectId: string;
  keyId: string;
  keyType: string;
  keyUsage: string;
  credentialOrigin: string;
  createdDateTime: string;
  expirationDateTime: string;
  resourceId: string | null;
  servicePrincipalObjectId: string | null;
  signInActivity: { lastSignInDateTime: string | null; lastSignInRequestId: string | null };
}

interface ReportPage {
  "@odata.context": string;
  "@odata.nextLink"?: string;
  value: Activity[];
}

/** A client-credentials token straight from the token endpoint (no cache, so new roles show at once). */
async function token(
  appId: string,
  secret: string,
): Promise<{ status: number; token: string; requestId: string }> {
  const res = await requestToken(sim, appId, secret, "https://graph.microsoft.com/.default");
  const body = (await res.json()) as { access_token?: string };
  return {
    status: res.status,
    token: body.access_token ?? "",
    requestId: res.headers.get("x-ms-request-id") ?? "",
  };
}

async function watchdogToken(): Promise<string> {
  return (await token(sim.watchdog.appId, sim.watchdog.secret)).token;
}

async function get(
  path: string,
  bearer?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = path.startsWith("https:") ? path : `${sim.urls.graphEndpoint}${path}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${bearer ?? (await watchdogToken())}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const reportFor = (appId: string) =>
  `/beta/reports/appCredentialSignInActivities?$filter=${encodeURIComponent(`appId eq '${appId}'`)}`;

async function report(appId: string): Promise<ReportPage> {
  const res = await get(reportFor(appId));
  expect(res.status).toBe(200);
  return res.body as unknown as ReportPage;
}

const errorCode = (body: Record<string, unknown>) => (body.error as { code: string; message: string }).code;
const errorMessage = (body: Record<string, unknown>) =>
  (body.error as { code: string; message: string }).message;

let app: SimApp;

beforeAll(async () => {
  sim = await startSimulator({ clock });
  app = sim.nylasApp as SimApp;
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.tenant.signInReport = { mode: "ok", delayMs: 0 };
  sim.tenant.grantAppRole(sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
});

describe("appCredentialSignInActivities (Graph beta)", () => {
  // fidelity: E3
  it("is refused with 403 to the default watchdog identity, which lacks AuditLog.Read.All", async () => {
    sim.tenant.revokeAppRole(sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    expect(sim.tenant.rolesOf(sim.watchdog.servicePrincipalId)).toEqual(["Application.ReadWrite.OwnedBy"]);
    const res = await get(reportFor(app.appId));
    expect(res.status).toBe(403);
    expect(errorCode(res.body)).toBe("Authorization_RequestDenied");
  });

  // fidelity: E3
  it("answers callers with Directory.Read.All too", async () => {
    sim.tenant.revokeAppRole(sim.watchdog.servicePrincipalId, "AuditLog.Read.All");
    const reader = sim.tenant.addIdentity("directory reader", ["Directory.Read.All"]);
    const { token: bearer } = await token(reader.app.appId, reader.secret);
    const res = await get(reportFor(app.appId), bearer);
    expect(res.status).toBe(200);
  });

  // fidelity: E2
  it("does not exist on v1.0", async () => {
    const res = await get(`/v1.0/reports/appCredentialSignInActivities`);
    expect(res.status).toBe(400);
    expect(errorCode(res.body)).toBe("BadRequest");
    expect(errorMessage(res.body)).toBe("Resource not found for the segment 'reports'.");
  });

  // fidelity: E1
  it("lists one entry per password credential of the app, never-used keys with a null sign-in", async () => {
    const page = await report(app.appId);
    expect(page["@odata.context"]).toBe(
      `${sim.urls.graphEndpoint}/beta/$metadata#reports/appCredentialSignInActivities`,
    );
    expect(page.value).toHaveLength(app.passwordCredentials.length);
    const seeded = app.passwordCredentials[0];
    const entry = page.value.find((v) => v.keyId === seeded?.keyId);
    expect(entry).toEqual({
      id: Buffer.from(`${seeded?.keyId}|application`).toString("base64"),
      appId: app.appId,
      appObjectId: app.id,
      keyId: seeded?.keyId,
      keyType: "clientSecret",
      keyUsage: "verify",
      credentialOrigin: "application",
      createdDateTime: seeded?.startDateTime,
      expirationDateTime: seeded?.endDateTime,
      resourceId: null,
      servicePrincipalObjectId: sim.tenant.spByAppId(app.appId)?.id,
      signInActivity: { lastSignInDateTime: null, lastSignInRequestId: null },
    });
    // An unknown app: an empty list, not an error.
    expect((await report("00000000-0000-0000-0000-0000000000ab")).value).toEqual([]);
  });

  // fidelity: E1, E8
  it("shows the sign-in of a client_credentials token, with the token response's request id", async () => {
    const fresh = sim.tenant.addSecret(app.id, {
      endDateTime: new Date(clock.now().getTime() + 90 * DAY_MS),
    });
    clock.advance(60_000);
    const issued = await token(app.appId, fresh.value);
    expect(issued.status).toBe(200);
    expect(issued.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const last = sim.tenant.lastSignIn(fresh.keyId);
    expect(last).toMatchObject({ keyId: fresh.keyId, appId: app.appId, requestId: issued.requestId });
    expect(last?.at.toISOString()).toBe(clock.now().toISOString());

    const entry = (await report(app.appId)).value.find((v) => v.keyId === fresh.keyId);
    expect(entry?.signInActivity).toEqual({
      lastSignInDateTime: clock.now().toISOString(),
      lastSignInRequestId: issued.requestId,
    });
    expect(entry?.resourceId).toBe(sim.tenant.graphServicePrincipal.id);
    // A refused secret is no sign-in.
    expect((await token(app.appId, "wrong")).status).toBe(401);
    expect(sim.tenant.lastSignIn(fresh.keyId)?.requestId).toBe(issued.requestId);
    sim.tenant.removePassword(app, fresh.keyId);
  });

  // fidelity: E5, E8
  it("shows a sign-in only delayMs after it happened; lastSignIn() ignores the delay", async () => {
    const key = sim.tenant.addSecret(app.id, { endDateTime: new Date(clock.now().getTime() + 90 * DAY_MS) });
    sim.tenant.signInReport = { mode: "ok", delayMs: 2 * HOUR_MS };
    const early = sim.tenant.recordSignIn(
      app.appId,
      key.keyId,
      new Date(clock.now().getTime() - 3 * HOUR_MS),
    );
    const late = sim.tenant.recordSignIn(app.id, key.keyId);
    expect(sim.tenant.lastSignIn(key.keyId)).toBe(late);
    const shown = () =>
      report(app.appId).then((p) => p.value.find((v) => v.keyId === key.keyId)?.signInActivity);
    expect(await shown()).toEqual({
      lastSignInDateTime: early.at.toISOString(),
      lastSignInRequestId: early.requestId,
    });
    clock.advance(2 * HOUR_MS - 1);
    expect((await shown())?.lastSignInRequestId).toBe(early.requestId);
    clock.advance(1);
    expect((await shown())?.lastSignInRequestId).toBe(late.requestId);
    expect(() => sim.tenant.recordSignIn(app.appId, "00000000-0000-0000-0000-000000000000")).toThrow(
      /no password credential/,
    );
    sim.tenant.removePassword(app, key.keyId);
  });

  // fidelity: E6, E7
  it("answers 403 in 'forbidden' mode, and the licence error in 'unlicensed' mode", async () => {
    sim.tenant.signInReport = { mode: "forbidden", delayMs: 0 };
    const forbidden = await get(reportFor(app.appId));
    expect(forbidden.status).toBe(403);
    expect(errorCode(forbidden.body)).toBe("Authorization_RequestDenied");

    sim.tenant.signInReport = { mode: "unlicensed", delayMs: 0 };
    const unlicensed = await get(reportFor(app.appId));
    expect(unlicensed.status).toBe(403);
    expect(errorCode(unlicensed.body)).toBe("Authentication_RequestFromNonPremiumTenantOrB2CTenant");
    expect(errorMessage(unlicensed.body)).toBe(
      "Neither tenant is B2C or tenant doesn't have premium license",
    );
  });

  // fidelity: E4
  it("accepts only $filter=appId eq '<guid>'", async () => {
    for (const filter of [
      `keyId eq '${app.passwordCredentials[0]?.keyId}'`,
      `appId in ('${app.appId}')`,
      `appId eq '${app.appId}' and keyType eq 'clientSecret'`,
      "appId eq 'not-a-guid'",
    ]) {
      const res = await get(
        `/beta/reports/appCredentialSignInActivities?$filter=${encodeURIComponent(filter)}`,
      );
      expect(res.status, filter).toBe(400);
      expect(errorCode(res.body)).toBe("Request_UnsupportedQuery");
    }
  });

  // fidelity: E4
  it("pages with $top and @odata.nextLink; without $filter it covers every app", async () => {
    const other = sim.tenant.addApp({ displayName: "three keys" });
    const end = new Date(clock.now().getTime() + 30 * DAY_MS);
    const keys = [1, 2, 3].map(() => sim.tenant.addSecret(other.id, { endDateTime: end }).keyId);
    const seen: string[] = [];
    let next: string | undefined = `${reportFor(other.appId)}&$top=2`;
    let pages = 0;
    while (next !== undefined) {
      const res = await get(next);
      expect(res.status).toBe(200);
      const body = res.body as unknown as ReportPage;
      seen.push(...body.value.map((v) => v.keyId));
      next = body["@odata.nextLink"];
      pages++;
    }
    expect(pages).toBe(2);
    expect(seen).toEqual(keys);

    const all = (await get("/beta/reports/appCredentialSignInActivities")).body as unknown as ReportPage;
    const everyKey = [...sim.tenant.apps.values()].flatMap((a) => a.passwordCredentials.map((p) => p.keyId));
    expect(all.value.map((v) => v.keyId)).toEqual(everyKey);
    expect((await get(`${reportFor(other.appId)}&$top=1000`)).status).toBe(400);
  });

  // fidelity: E1
  it("gets one entry by id", async () => {
    const keyId = app.passwordCredentials[0]?.keyId ?? "";
    const id = Buffer.from(`${keyId}|application`).toString("base64");
    const res = await get(`/beta/reports/appCredentialSignInActivities/${encodeURIComponent(id)}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, keyId, appId: app.appId });
    const missing = await get(
      `/beta/reports/appCredentialSignInActivities/${Buffer.from("nope|application").toString("base64")}`,
    );
    expect(missing.status).toBe(404);
  });
});

describe("sign-ins Nylas makes with the connector's secret", () => {
  // fidelity: E8
  it("hosted auth records a sign-in with the connector's key", async () => {
    const keyId = app.passwordCredentials[0]?.keyId ?? "";
    clock.advance(60_000);
    await sim.nylas.signIn("hosted.auth@contoso.com");
    expect(sim.tenant.lastSignIn(keyId)?.at.toISOString()).toBe(clock.now().toISOString());
  });

  // fidelity: E8, N10
  it("tick() records one refresh sign-in per key in use, none for expired or unpropagated keys", async () => {
    const nylas = sim.tenant.nylas;
    const seededKey = app.passwordCredentials[0]?.keyId ?? "";
    // A second key with one grant on it, and a third one still propagating.
    const second = sim.tenant.addSecret(app.id, {
      endDateTime: new Date(clock.now().getTime() + 400 * DAY_MS),
    });
    const onSecond = nylas.addGrant({ email: "second.key@contoso.com", secretKeyId: second.keyId });
    sim.tenant.propagationDelayMs = HOUR_MS;
    const third = sim.tenant.createPassword(app, {
      startDateTime: clock.now(),
      endDateTime: new Date(clock.now().getTime() + 400 * DAY_MS),
    });
    const onThird = nylas.addGrant({ email: "third.key@contoso.com", secretKeyId: third.keyId });
    try {
      clock.advance(HOUR_MS / 2);
      const usingSeeded = nylas.grants.filter(
        (g) => g.secretKeyId === seededKey && g.grant_status === "valid",
      );
      const first = await sim.nylas.tick();
      expect(first.expired).toEqual([]);
      expect(first.refreshed.map((r) => [r.keyId, r.grants]).sort()).toEqual(
        [
          [seededKey, usingSeeded.length],
          [second.keyId, 1],
        ].sort(),
      );
      expect(sim.tenant.lastSignIn(seededKey)?.at.toISOString()).toBe(clock.now().toISOString());
      expect(sim.tenant.lastSignIn(second.keyId)?.at.toISOString()).toBe(clock.now().toISOString());
      expect(sim.tenant.lastSignIn(third.keyId)).toBeUndefined();
      expect(onThird.grant_status).toBe("valid");

      // Past the seeded key's expiry: its grants go invalid and stop signing in; the others refresh.
      const seededEnd = Date.parse(app.passwordCredentials[0]?.endDateTime ?? "");
      const before = sim.tenant.lastSignIn(seededKey);
      clock.set(new Date(seededEnd + 1000));
      const later = await sim.nylas.tick();
      expect(later.expired.map((g) => g.id).sort()).toEqual(usingSeeded.map((g) => g.id).sort());
      expect(sim.tenant.lastSignIn(seededKey)).toBe(before);
      expect(later.refreshed.map((r) => r.keyId).sort()).toEqual([second.keyId, third.keyId].sort());
      expect(onSecond.grant_status).toBe("valid");

      // refreshGrants() alone: sign-ins, nothing expires.
      clock.advance(HOUR_MS);
      const refreshed = sim.nylas.refreshGrants();
      expect(refreshed.map((r) => r.keyId).sort()).toEqual([second.keyId, third.keyId].sort());
      expect(sim.tenant.signInsOf(second.keyId).length).toBeGreaterThanOrEqual(3);
    } finally {
      sim.tenant.propagationDelayMs = 0;
    }
  });
});
