import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requestToken } from "../../helpers/entra-token.js";
import { ManualClock, DAY_MS } from "../../../lib/clock.js";
import { startSimulator, type SimApp, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;
const clock = new ManualClock();

beforeAll(async () => {
  sim = await startSimulator({ clock, seed: false });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.tenant.propagationDelayMs = 0;
  sim.tenant.propagationFlaps = undefined;
  sim.tenant.notPropagatedCode = "7000215";
});

/** One client-credentials token request, raw (no SDK token cache): the AADSTS code, or 0 for a token. */
async function tokenCode(appId: string, secret: string): Promise<number> {
  const res = await requestToken(sim, appId, secret, `${sim.urls.graphEndpoint}/.default`);
  const body = (await res.json()) as { access_token?: string; error?: string; error_codes?: number[] };
  if (res.status === 200) {
    expect(body.access_token).toBeTruthy();
    return 0;
  }
  expect(res.status).toBe(401);
  expect(body.error).toBe("invalid_client");
  return body.error_codes?.[0] ?? -1;
}

async function codes(appId: string, secret: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await tokenCode(appId, secret));
  return out;
}

/** A secret as Graph addPassword creates it (so it has to propagate). */
function newSecret(name: string): { app: SimApp; value: string; keyId: string } {
  const app = sim.tenant.addApp({ displayName: name });
  const password = sim.tenant.createPassword(app, {
    startDateTime: clock.now(),
    endDateTime: new Date(clock.now().getTime() + 90 * DAY_MS),
  });
  return { app, value: password.value, keyId: password.keyId };
}

// fidelity: E11
describe("Entra replicas disagreeing while a new secret propagates", () => {
  it("default: once a new secret is accepted, it stays accepted", async () => {
    const { app, value } = newSecret("monotonic");
    expect(await codes(app.appId, value, 5)).toEqual([0, 0, 0, 0, 0]);
  });

  it("propagationFlaps: after the first accept, the next N requests are refused with AADSTS7000215, then stable", async () => {
    sim.tenant.propagationFlaps = { refusalsAfterFirstAccept: 2 };
    const { app, value, keyId } = newSecret("flapping");
    expect(await codes(app.appId, value, 6)).toEqual([0, 7000215, 7000215, 0, 0, 0]);
    // Refused requests are not sign-ins.
    expect(sim.tenant.signInsOf(keyId)).toHaveLength(4);
    // checkSecret only looks: it does not advance the flaps and says the secret is good.
    expect(sim.tenant.checkSecret(app, value).ok).toBe(true);
  });

  it("accepts a few first when acceptsBeforeRefusals says so, and can refuse with AADSTS7000222", async () => {
    sim.tenant.propagationFlaps = { acceptsBeforeRefusals: 2, refusalsAfterFirstAccept: 1, code: "7000222" };
    const { app, value } = newSecret("two then one");
    expect(await codes(app.appId, value, 5)).toEqual([0, 0, 7000222, 0, 0]);
  });

  // fidelity: E9, E11
  it("counts from the first accept: refusals before propagation are not part of the flaps", async () => {
    sim.tenant.propagationDelayMs = 30_000;
    sim.tenant.propagationFlaps = { refusalsAfterFirstAccept: 1 };
    const { app, value } = newSecret("delayed then flapping");
    expect(await codes(app.appId, value, 2)).toEqual([7000215, 7000215]);
    clock.advance(31_000);
    expect(await codes(app.appId, value, 4)).toEqual([0, 7000215, 0, 0]);
  });

  it("applies only to secrets created by addPassword, and only to those first accepted while it is set", async () => {
    const seededApp = sim.tenant.addApp({ displayName: "seeded" });
    const seeded = sim.tenant.addSecret(seededApp.id, {
      endDateTime: new Date(clock.now().getTime() + DAY_MS),
    });
    const early = newSecret("accepted before the knob");
    expect(await tokenCode(early.app.appId, early.value)).toBe(0);
    sim.tenant.propagationFlaps = { refusalsAfterFirstAccept: 3 };
    expect(await codes(seededApp.appId, seeded.value, 3)).toEqual([0, 0, 0]);
    expect(await codes(early.app.appId, early.value, 3)).toEqual([0, 0, 0]);
  });

  it("Nylas' hosted-auth code exchange is a token request too: it can meet a lagging replica", async () => {
    const other = await startSimulator({ clock });
    try {
      const app = other.nylasApp as SimApp;
      other.tenant.propagationFlaps = { refusalsAfterFirstAccept: 1 };
      const password = other.tenant.createPassword(app, {
        startDateTime: clock.now(),
        endDateTime: new Date(clock.now().getTime() + 90 * DAY_MS),
      });
      const connector = other.tenant.nylas.connector;
      if (!connector) throw new Error("seeded connector missing");
      connector.settings.client_secret = password.value;
      await other.nylas.signIn("first@contoso.com");
      await expect(other.nylas.signIn("second@contoso.com")).rejects.toThrow(/failed/);
      expect(other.nylas.authLog.at(-1)?.providerError?.error_codes).toEqual([7000215]);
      await other.nylas.signIn("third@contoso.com");
    } finally {
      await other.close();
    }
  });
});

// fidelity: E9, E10
describe("a secret still propagating answered as expired", () => {
  it("notPropagatedCode = '7000222': AADSTS7000222 until propagated, then a token", async () => {
    sim.tenant.propagationDelayMs = 60_000;
    sim.tenant.notPropagatedCode = "7000222";
    const { app, value } = newSecret("looks expired");
    expect(await tokenCode(app.appId, value)).toBe(7000222);
    clock.advance(61_000);
    expect(await tokenCode(app.appId, value)).toBe(0);
  });

  it("default '7000215'; a wrong secret is 7000215 and a truly expired one 7000222 either way", async () => {
    sim.tenant.propagationDelayMs = 60_000;
    const { app, value } = newSecret("default code");
    expect(await tokenCode(app.appId, value)).toBe(7000215);
    sim.tenant.notPropagatedCode = "7000222";
    expect(await tokenCode(app.appId, "not-the-secret")).toBe(7000215);
    const expired = sim.tenant.addSecret(app.id, { endDateTime: new Date(clock.now().getTime() - DAY_MS) });
    expect(await tokenCode(app.appId, expired.value)).toBe(7000222);
  });
});
