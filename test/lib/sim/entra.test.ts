import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientSecretCredential } from "@azure/identity";
import { ManualClock, DAY_MS } from "../../../lib/clock.js";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;
const clock = new ManualClock();

beforeAll(async () => {
  sim = await startSimulator({ clock, propagationDelayMs: 60_000 });
});
afterAll(async () => {
  await sim.close();
});

function credential(clientId: string, secret: string): ClientSecretCredential {
  return new ClientSecretCredential(sim.tenant.tenantId, clientId, secret, {
    authorityHost: sim.urls.authorityHost,
    disableInstanceDiscovery: true,
  });
}

const scope = () => `${sim.urls.graphEndpoint}/.default`;

function decode(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}

describe("simulated Entra through @azure/identity", () => {
  it("issues a token for a good secret, with the roles of the service principal", async () => {
    const token = await credential(sim.watchdog.appId, sim.watchdog.secret).getToken(scope());
    expect(token.token.split(".")).toHaveLength(3);
    const claims = decode(token.token);
    expect(claims).toMatchObject({
      appid: sim.watchdog.appId,
      oid: sim.watchdog.servicePrincipalId,
      tid: sim.tenant.tenantId,
      roles: ["Application.ReadWrite.OwnedBy"],
    });
    const tokenRequest = sim.requests.find(
      (r) => r.service === "entra" && r.path.endsWith("/oauth2/v2.0/token"),
    );
    expect(tokenRequest?.status).toBe(200);
    expect(sim.requests.some((r) => r.path.endsWith("/v2.0/.well-known/openid-configuration"))).toBe(true);
  });

  it("surfaces AADSTS7000215 for a wrong secret", async () => {
    await expect(credential(sim.watchdog.appId, "not-the-secret").getToken(scope())).rejects.toThrow(
      /AADSTS7000215/,
    );
  });

  it("surfaces AADSTS7000222 for an expired secret", async () => {
    const app = sim.tenant.addApp({ displayName: "expired" });
    const { value } = sim.tenant.addSecret(app.id, { endDateTime: new Date(clock.now().getTime() - DAY_MS) });
    await expect(credential(app.appId, value).getToken(scope())).rejects.toThrow(/AADSTS7000222/);
  });

  // fidelity: E9
  it("refuses a new secret until the propagation delay has passed", async () => {
    const app = sim.tenant.addApp({ displayName: "fresh" });
    const password = sim.tenant.createPassword(app, {
      startDateTime: clock.now(),
      endDateTime: new Date(clock.now().getTime() + 90 * DAY_MS),
    });
    await expect(credential(app.appId, password.value).getToken(scope())).rejects.toThrow(/AADSTS7000215/);
    clock.advance(61_000);
    const token = await credential(app.appId, password.value).getToken(scope());
    expect(token.token).toBeTruthy();
  });

  it("surfaces AADSTS700016 for an unknown client id", async () => {
    await expect(
      credential("11111111-2222-3333-4444-555555555555", "whatever").getToken(scope()),
    ).rejects.toThrow(/AADSTS700016/);
  });
});
