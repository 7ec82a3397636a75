import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientSecretCredential } from "@azure/identity";
import { Client, type GraphError } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { ManualClock, DAY_MS } from "../../../lib/clock.js";
import { startSimulator, type SimApp, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;
let graph: Client;
const clock = new ManualClock();

function graphClientFor(clientId: string, secret: string): Client {
  const credential = new ClientSecretCredential(sim.tenant.tenantId, clientId, secret, {
    authorityHost: sim.urls.authorityHost,
    disableInstanceDiscovery: true,
  });
  return Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, {
      scopes: [`${sim.urls.graphEndpoint}/.default`],
    }),
    baseUrl: sim.urls.graphEndpoint,
    customHosts: new Set(["127.0.0.1"]),
  });
}

async function graphError(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    return error as GraphError;
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  sim = await startSimulator({ clock });
  graph = graphClientFor(sim.watchdog.appId, sim.watchdog.secret);
});
afterAll(async () => {
  await sim.close();
});

describe("simulated Graph through @microsoft/microsoft-graph-client", () => {
  it("pages 2,500 applications with $top=999 and follows @odata.nextLink", async () => {
    while (sim.tenant.apps.size < 2500) {
      sim.tenant.addApp({ displayName: `bulk-${sim.tenant.apps.size}` }, { servicePrincipal: false });
    }
    const pages: number[] = [];
    const ids = new Set<string>();
    let res = (await graph.api("/applications").top(999).select("id,appId,passwordCredentials").get()) as {
      value: Record<string, unknown>[];
      "@odata.nextLink"?: string;
      "@odata.context": string;
    };
    expect(res["@odata.context"]).toContain("$metadata#applications(id,appId,passwordCredentials)");
    for (;;) {
      pages.push(res.value.length);
      for (const app of res.value) {
        ids.add(String(app.id));
        expect(Object.keys(app).sort()).toEqual(["appId", "id", "passwordCredentials"]);
      }
      const next = res["@odata.nextLink"];
      if (next === undefined) break;
      expect(next).toContain("$skiptoken=");
      res = (await graph.api(next).get()) as typeof res;
    }
    expect(pages).toEqual([999, 999, 502]);
    expect(ids.size).toBe(2500);
  });

  it("filters by appId and gets by the appId alternate key, respecting $select", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const list = (await graph
      .api("/applications")
      .filter(`appId eq '${nylasApp.appId}'`)
      .select("id,displayName")
      .get()) as { value: Record<string, unknown>[] };
    expect(list.value).toEqual([{ id: nylasApp.id, displayName: nylasApp.displayName }]);

    const app = (await graph
      .api(`/applications(appId='${nylasApp.appId}')`)
      .select("appId,passwordCredentials")
      .get()) as Record<string, unknown>;
    expect(app.id).toBe(nylasApp.id);
    expect(app.displayName).toBeUndefined();
    const creds = app.passwordCredentials as Record<string, unknown>[];
    expect(creds).toHaveLength(1);
    expect(creds[0]?.secretText).toBeNull();
    expect(JSON.stringify(app)).not.toContain(nylasApp.passwordCredentials[0]?.value);

    const missing = await graphError(
      graph.api("/applications(appId='00000000-0000-0000-0000-0000000000aa')").get(),
    );
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe("Request_ResourceNotFound");
    expect(missing.message).toMatch(
      /does not exist or one of its queried reference-property objects are not present/,
    );

    const badTop = await graphError(graph.api("/applications").top(1000).get());
    expect(badTop.statusCode).toBe(400);
  });

  it("addPassword returns secretText once; GET never shows it; removePassword deletes it", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const end = new Date(clock.now().getTime() + 180 * DAY_MS).toISOString();
    const created = (await graph
      .api(`/applications/${nylasApp.id}/addPassword`)
      .post({ passwordCredential: { displayName: "rotated by watchdog", endDateTime: end } })) as Record<
      string,
      unknown
    >;
    expect(created).toMatchObject({
      displayName: "rotated by watchdog",
      endDateTime: end,
      customKeyIdentifier: null,
    });
    const secretText = String(created.secretText);
    expect(secretText).toHaveLength(40);
    expect(secretText).toMatch(/^[A-Za-z0-9]{3}\dQ~[A-Za-z0-9_~.-]{34}$/);
    expect(created.hint).toBe(secretText.slice(0, 3));
    expect(created.keyId).toMatch(/^[0-9a-f-]{36}$/);

    const app = (await graph.api(`/applications/${nylasApp.id}`).get()) as Record<string, unknown>;
    const text = JSON.stringify(app);
    expect(text).not.toContain(secretText);
    expect(text).toContain(String(created.keyId));

    await graph.api(`/applications/${nylasApp.id}/removePassword`).post({ keyId: created.keyId });
    const after = (await graph.api(`/applications/${nylasApp.id}`).select("passwordCredentials").get()) as {
      passwordCredentials: { keyId: string }[];
    };
    expect(after.passwordCredentials.map((p) => p.keyId)).not.toContain(created.keyId);

    const again = await graphError(
      graph.api(`/applications/${nylasApp.id}/removePassword`).post({ keyId: created.keyId }),
    );
    expect(again.statusCode).toBe(400);
  });

  it("defaults addPassword to two years", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const created = (await graph.api(`/applications/${nylasApp.id}/addPassword`).post({})) as Record<
      string,
      string
    >;
    const years =
      (Date.parse(created.endDateTime ?? "") - Date.parse(created.startDateTime ?? "")) / (365 * DAY_MS);
    expect(years).toBeGreaterThan(1.99);
    expect(years).toBeLessThan(2.01);
    sim.tenant.removePassword(nylasApp, created.keyId ?? "");
  });

  it("enforces the tenant's credential lifetime policy", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    sim.tenant.lifetimePolicyMaxDays = 90;
    try {
      const error = await graphError(
        graph.api(`/applications/${nylasApp.id}/addPassword`).post({
          passwordCredential: { endDateTime: new Date(clock.now().getTime() + 180 * DAY_MS).toISOString() },
        }),
      );
      expect(error.statusCode).toBe(400);
      expect(error.code).toBe("CredentialInvalidLifetimeAsPerAppPolicy");
      expect(error.message).toBe(
        "Credential lifetime exceeds the max value allowed as per assigned policy '00000000-0000-0000-0000-000000000000'.",
      );
    } finally {
      sim.tenant.lifetimePolicyMaxDays = undefined;
    }
  });

  // fidelity: E12
  it("refuses a third password on apps that allow personal accounts", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const second = (await graph.api(`/applications/${nylasApp.id}/addPassword`).post({
      passwordCredential: { endDateTime: new Date(clock.now().getTime() + 90 * DAY_MS).toISOString() },
    })) as { keyId: string };
    const error = await graphError(graph.api(`/applications/${nylasApp.id}/addPassword`).post({}));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe("TooManyAppPasswords");
    expect(error.message).toBe("Not allowed to add 3 passwords. You can only add a maximum of 2 passwords.");
    // GraphError.body is the `error` object of the response, serialised.
    expect(JSON.parse(error.body as string)).toMatchObject({
      details: [{ target: "passwordCredentials", code: "TooManyAppPasswords" }],
    });
    sim.tenant.removePassword(nylasApp, second.keyId);
  });

  // fidelity: E12
  it("caps PersonalMicrosoftAccount apps at two passwords too, and work-or-school apps not at all", async () => {
    const owners = [sim.watchdog.servicePrincipalId];
    const end = () => new Date(clock.now().getTime() + 90 * DAY_MS).toISOString();
    const add = (id: string) =>
      graph.api(`/applications/${id}/addPassword`).post({ passwordCredential: { endDateTime: end() } });
    const personal = sim.tenant.addApp({
      displayName: "personal accounts only",
      signInAudience: "PersonalMicrosoftAccount",
      owners,
    });
    await add(personal.id);
    await add(personal.id);
    const error = await graphError(add(personal.id));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe("TooManyAppPasswords");
    expect(personal.passwordCredentials).toHaveLength(2);

    for (const signInAudience of ["AzureADMultipleOrgs", "AzureADMyOrg"] as const) {
      const org = sim.tenant.addApp({ displayName: `org only (${signInAudience})`, signInAudience, owners });
      for (let i = 0; i < 3; i++) await add(org.id);
      expect(org.passwordCredentials, signInAudience).toHaveLength(3);
    }
  });

  // fidelity: E13
  it("a 504 injected after addPassword: the key is created, the caller only sees the 504", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const fault = sim.faults.add({
      service: "graph",
      method: "POST",
      path: /\/addPassword$/,
      when: "after",
      response: { status: 504 },
    });
    const credential = new ClientSecretCredential(
      sim.tenant.tenantId,
      sim.watchdog.appId,
      sim.watchdog.secret,
      {
        authorityHost: sim.urls.authorityHost,
        disableInstanceDiscovery: true,
      },
    );
    const { token } = await credential.getToken(`${sim.urls.graphEndpoint}/.default`);
    const keysBefore = nylasApp.passwordCredentials.map((p) => p.keyId);
    const res = await fetch(`${sim.urls.graphEndpoint}/v1.0/applications/${nylasApp.id}/addPassword`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        passwordCredential: {
          displayName: "lost in a timeout",
          endDateTime: new Date(clock.now().getTime() + 90 * DAY_MS).toISOString(),
        },
      }),
    });
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { code: string }; secretText?: string };
    expect(body.error.code).toBe("UnknownError");
    expect(body.secretText).toBeUndefined();
    expect(fault.hits).toBe(1);
    const added = nylasApp.passwordCredentials.filter((p) => !keysBefore.includes(p.keyId));
    expect(added).toHaveLength(1);
    expect(added[0]?.displayName).toBe("lost in a timeout");
    // The created key is visible to a later read, so a retry can find (and remove) it.
    const app = (await graph.api(`/applications/${nylasApp.id}`).select("passwordCredentials").get()) as {
      passwordCredentials: { keyId: string }[];
    };
    expect(app.passwordCredentials.map((p) => p.keyId)).toContain(added[0]?.keyId);
    sim.tenant.removePassword(nylasApp, added[0]?.keyId ?? "");
  });

  it("lets OwnedBy read any app but write only the apps it owns", async () => {
    const other = sim.tenant.addApp({ displayName: "not owned" });
    const read = (await graph.api(`/applications/${other.id}`).select("id").get()) as { id: string };
    expect(read.id).toBe(other.id);
    const error = await graphError(graph.api(`/applications/${other.id}/addPassword`).post({}));
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe("Authorization_RequestDenied");
    expect(error.message).toBe("Insufficient privileges to complete the operation.");
    expect(other.passwordCredentials).toHaveLength(0);
  });

  it("refuses everything but the caller's own app without any permission", async () => {
    const bare = sim.tenant.addIdentity("no permissions");
    const client = graphClientFor(bare.app.appId, bare.secret);
    const error = await graphError(client.api("/applications").get());
    expect(error.statusCode).toBe(403);
    const self = (await client.api(`/applications(appId='${bare.app.appId}')`).select("id").get()) as {
      id: string;
    };
    expect(self.id).toBe(bare.app.id);
  });

  it("answers $batch sub-requests individually, a throttled one with its own Retry-After", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    sim.faults.add({
      service: "graph",
      path: `/v1.0/applications(appId='${sim.watchdog.appId}')`,
      response: { status: 429, headers: { "retry-after": "7" } },
    });
    const res = (await graph.api("/$batch").post({
      requests: [
        { id: "1", method: "GET", url: `/applications(appId='${nylasApp.appId}')?$select=id,appId` },
        { id: "2", method: "GET", url: `/applications(appId='${sim.watchdog.appId}')?$select=id` },
        { id: "3", method: "GET", url: "/applications(appId='00000000-0000-0000-0000-0000000000bb')" },
      ],
    })) as {
      responses: {
        id: string;
        status: number;
        headers: Record<string, string>;
        body: Record<string, unknown>;
      }[];
    };
    const byId = new Map(res.responses.map((r) => [r.id, r]));
    expect(byId.get("1")?.status).toBe(200);
    expect(byId.get("1")?.body).toMatchObject({ id: nylasApp.id, appId: nylasApp.appId });
    expect(byId.get("2")?.status).toBe(429);
    expect(byId.get("2")?.headers["Retry-After"]).toBe("7");
    expect(byId.get("3")?.status).toBe(404);
    expect(sim.requests.filter((r) => r.batch).length).toBeGreaterThanOrEqual(3);

    const tooMany = await graphError(
      graph.api("/$batch").post({
        requests: Array.from({ length: 21 }, (_, i) => ({
          id: String(i),
          method: "GET",
          url: "/applications?$top=1",
        })),
      }),
    );
    expect(tooMany.statusCode).toBe(400);
  });

  it("throttles with 429 + Retry-After, which the client's RetryHandler honours", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    sim.faults.add({
      service: "graph",
      method: "GET",
      path: `/v1.0/applications/${nylasApp.id}`,
      response: { status: 429, headers: { "retry-after": "1" } },
    });
    const started = Date.now();
    const app = (await graph.api(`/applications/${nylasApp.id}`).select("id").get()) as { id: string };
    expect(app.id).toBe(nylasApp.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const attempts = sim.requests.filter((r) => r.path === `/v1.0/applications/${nylasApp.id}` && !r.batch);
    expect(attempts.map((r) => r.status).slice(-2)).toEqual([429, 200]);
    expect(attempts.at(-1)?.headers["retry-attempt"]).toBe("1");
  });

  it("rejects requests without a valid bearer token", async () => {
    const res = await fetch(`${sim.urls.graphEndpoint}/v1.0/applications`);
    expect(res.status).toBe(401);
    expect(res.headers.get("request-id")).toBeTruthy();
    const body = (await res.json()) as { error: { code: string; innerError: Record<string, string> } };
    expect(body.error.code).toBe("InvalidAuthenticationToken");
    expect(body.error.innerError["request-id"]).toBe(res.headers.get("request-id"));

    const forged = await fetch(`${sim.urls.graphEndpoint}/v1.0/applications`, {
      headers: {
        authorization: "Bearer eyJhbGciOiJub25lIn0.eyJyb2xlcyI6WyJBcHBsaWNhdGlvbi5SZWFkV3JpdGUuQWxsIl19.x",
      },
    });
    expect(forged.status).toBe(401);
  });

  it("lists service principals, app role assignments and consents (the latter needs Directory.Read.All)", async () => {
    const nylasApp = sim.nylasApp as SimApp;
    const sps = (await graph.api("/servicePrincipals").filter(`appId eq '${nylasApp.appId}'`).get()) as {
      value: { id: string }[];
    };
    expect(sps.value).toHaveLength(1);
    const spId = sps.value[0]?.id ?? "";
    const graphSp = (await graph
      .api("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")
      .get()) as {
      oauth2PermissionScopes: { value: string; id: string }[];
      appRoles: { value: string; id: string }[];
    };
    expect(graphSp.oauth2PermissionScopes.find((s) => s.value === "offline_access")?.id).toBe(
      "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    );
    const roles = (await graph
      .api(`/servicePrincipals/${sim.watchdog.servicePrincipalId}/appRoleAssignments`)
      .get()) as {
      value: { appRoleId: string }[];
    };
    expect(roles.value.map((r) => r.appRoleId)).toEqual(["18a4783c-866b-4cc7-a460-3d5e5662c884"]);

    const denied = await graphError(
      graph.api("/oauth2PermissionGrants").filter(`clientId eq '${spId}'`).get(),
    );
    expect(denied.statusCode).toBe(403);
    const reader = sim.tenant.addIdentity("directory reader", ["Directory.Read.All"]);
    const grants = (await graphClientFor(reader.app.appId, reader.secret)
      .api("/oauth2PermissionGrants")
      .filter(`clientId eq '${spId}' and consentType eq 'AllPrincipals'`)
      .get()) as { value: { scope: string }[] };
    expect(grants.value).toHaveLength(1);
    expect(grants.value[0]?.scope.split(" ")).toContain("offline_access");

    const owners = (await graph.api(`/applications/${nylasApp.id}/owners`).get()) as {
      value: { id: string }[];
    };
    expect(owners.value.map((o) => o.id)).toEqual([sim.watchdog.servicePrincipalId]);
  });
});
