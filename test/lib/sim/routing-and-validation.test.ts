/**
 * How the simulated services route and validate what the SDKs never send:
 * look-alike paths, wrong methods, malformed bodies and queries, each refused
 * in the order and with the words the real service uses. Path segments and
 * block types such as "constructor" name no route and no block type: they
 * must not reach an object's prototype in a lookup table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockKitProblem, startSimulator, type Simulator } from "../../../lib/sim/index.js";
import { watchdogGraphToken } from "../../helpers/entra-token.js";
import { nylasApi as callNylasApi } from "../../helpers/nylas-api.js";

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator();
  token = await watchdogGraphToken(sim);
});
afterAll(async () => {
  await sim.close();
});

const nylasApi = (method: string, path: string, body?: unknown) => callNylasApi(sim, method, path, body);

interface GraphBody {
  error: { code: string; message: string };
  responses: Record<string, unknown>[];
}
interface EntraBody {
  error?: string;
  error_codes?: number[];
  error_description?: string;
  token_type?: string;
}

async function graph(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.urls.graphEndpoint}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as GraphBody };
}

async function entraToken(form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.urls.authorityHost}/${sim.tenant.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as EntraBody };
}

describe("Graph routing", () => {
  it.each([
    ["DELETE", "/v1.0/applications", 405, "Request_BadRequest"],
    ["GET", "/v1.0/$batch", 405, "Request_BadRequest"],
    ["POST", "/beta/reports/appCredentialSignInActivities", 405, "Request_BadRequest"],
    ["PATCH", "/v1.0/oauth2PermissionGrants", 405, "Request_BadRequest"],
  ])("%s %s answers %i %s", async (method, path, status, code) => {
    const res = await graph(method, path);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toBe("Specified HTTP method is not allowed for the request target.");
  });

  it.each([
    ["/v1.0/applications(appId='00000000-0000-0000-0000-000000000001')/constructor", "constructor"],
    ["/v1.0/servicePrincipals/abc/toString", "toString"],
    ["/v1.0/applications/abc/appRoleAssignments", "appRoleAssignments"],
    ["/v1.0/reports/appCredentialSignInActivities", "reports"],
    ["/v1.0/constructor", "constructor"],
  ])("GET %s is an unknown segment '%s'", async (path, segment) => {
    const res = await graph("GET", path);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "BadRequest",
      message: `Resource not found for the segment '${segment}'.`,
    });
  });

  it.each([
    [{ requests: {} }, "Invalid batch payload format: 'requests' must be an array."],
    [
      { requests: [{ id: "1", method: "GET" }] },
      "Invalid batch payload format: each request needs 'id', 'method' and 'url'.",
    ],
    [
      {
        requests: [
          { id: "a", method: "GET", url: "/applications" },
          { id: "a", method: "GET", url: "/applications" },
        ],
      },
      "Batch request ids must be unique: 'a' repeats.",
    ],
    [
      {
        requests: Array.from({ length: 21 }, (_, i) => ({ id: `${i}`, method: "GET", url: "/applications" })),
      },
      "The number of requests in the batch (21) exceeds the limit of 20.",
    ],
  ])("refuses a malformed $batch envelope whole: %j", async (envelope, message) => {
    const res = await graph("POST", "/v1.0/$batch", envelope);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "BadRequest", message });
  });

  it("answers an absolute url 400 and its dependants 424 inside the envelope, the rest normally", async () => {
    const res = await graph("POST", "/v1.0/$batch", {
      requests: [
        { id: "1", method: "GET", url: "https://graph.microsoft.com/v1.0/applications" },
        { id: "2", method: "GET", url: "/applications?$top=1", dependsOn: ["1"] },
        { id: "3", method: "get", url: "applications?$top=1" },
      ],
    });
    expect(res.status).toBe(200);
    const [absolute, dependant, plain] = res.body.responses;
    expect(absolute).toMatchObject({
      id: "1",
      status: 400,
      headers: { "Content-Type": "application/json" },
      body: { error: { code: "BadRequest", message: "Batch request urls must be relative." } },
    });
    expect(dependant).toMatchObject({
      id: "2",
      status: 424,
      body: { error: { code: "FailedDependency", message: "Failed dependency." } },
    });
    expect(plain).toMatchObject({ id: "3", status: 200, headers: { "Content-Type": expect.any(String) } });
    expect((plain?.body as { value: unknown[] }).value).toHaveLength(1);
  });
});

describe("Nylas routing", () => {
  it.each([
    ["GET", "/v3/constructor"],
    ["GET", "/v3/toString/x"],
    ["GET", "/v3/__proto__"],
    ["GET", "/v3/grants/abc/extra"],
    ["GET", "/v3/connectors/microsoft/extra"],
    ["POST", "/v3/applications/redirect-uris"],
    ["GET", "/v2/grants"],
  ])("%s %s is no route", async (method, path) => {
    const res = await nylasApi(method, path);
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ type: "not_found_error", message: "route not found" });
  });

  it("lists the callback URIs, and answers POST /v3/grants 405", async () => {
    const uris = await nylasApi("GET", "/v3/applications/redirect-uris");
    expect(uris.status).toBe(200);
    expect(uris.body.data).toEqual(
      sim.tenant.nylas.callbackUris.map(
        (url) => expect.objectContaining({ url, platform: "web" }) as unknown,
      ),
    );
    const post = await nylasApi("POST", "/v3/grants", {});
    expect(post.status).toBe(405);
    expect(post.body.error).toMatchObject({ type: "invalid_request_error" });
  });

  it.each([
    ["limit=0", "limit must be a positive integer"],
    ["limit=1.5", "limit must be a positive integer"],
    ["limit=201", "limit must be less than or equal to 200"],
    ["offset=-1", "offset must be a non-negative integer"],
    ["sort_by=email", "sort_by must be created_at or updated_at"],
    ["order_by=up", "order_by must be asc or desc"],
    ["grant_status=expired", "grant_status must be valid or invalid"],
    ["before=yesterday", "since and before must be unix timestamps in seconds"],
    ["order_by=up&limit=0&since=x", "limit must be a positive integer"],
    ["grant_status=&sort_by=updated_at", "grant_status must be valid or invalid"],
  ])("GET /v3/grants?%s answers 400: %s", async (query, message) => {
    const res = await nylasApi("GET", `/v3/grants?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ type: "invalid_request_error", message });
  });

  it("filters by status, provider and created_at bounds together", async () => {
    const created = 1_600_000_000;
    for (let i = 0; i < 4; i++) {
      sim.tenant.nylas.addGrant({
        email: `bounds${i}@contoso.com`,
        created_at: created + i,
        grant_status: i === 2 ? "invalid" : "valid",
      });
    }
    const res = await nylasApi(
      "GET",
      `/v3/grants?grant_status=valid&provider=microsoft&since=${created + 1}&before=${created + 3}&order_by=asc`,
    );
    expect(res.status).toBe(200);
    expect((res.body.data as { email: string }[]).map((g) => g.email)).toEqual([
      "bounds1@contoso.com",
      "bounds3@contoso.com",
    ]);
  });

  it.each([
    [{ settings: [] }, "settings must be an object"],
    [{ settings: null }, "settings must be an object"],
    [{ scope: "offline_access" }, "scope must be an array of strings"],
    [{ name: 5 }, "name must be a string"],
    [{ active_credential_id: 5 }, "active_credential_id must be a string"],
    [{ name: 5, scope: [1] }, "scope must be an array of strings"],
  ])("PATCH /v3/connectors/microsoft %j answers 400 and changes nothing", async (body, message) => {
    const before = JSON.stringify(sim.tenant.nylas.connector);
    const res = await nylasApi("PATCH", "/v3/connectors/microsoft", body);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ type: "invalid_request_error", message });
    expect(JSON.stringify(sim.tenant.nylas.connector)).toBe(before);
  });

  it("PUT /v3/webhooks/{id} refuses trigger_types that are not strings", async () => {
    const webhook = sim.tenant.nylas.addWebhook({ webhook_url: "https://example.com/hook" });
    const res = await nylasApi("PUT", `/v3/webhooks/${webhook.id}`, { trigger_types: "grant.expired" });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      type: "invalid_request_error",
      message: "trigger_types must be an array of strings",
    });
    expect(webhook.trigger_types).toContain("grant.created");
  });
});

describe("Entra token request validation", () => {
  const scope = () => `${sim.urls.graphEndpoint}/.default`;
  const good = () => ({
    grant_type: "client_credentials",
    client_id: sim.watchdog.appId,
    client_secret: sim.watchdog.secret,
    scope: scope(),
  });
  const without = (name: string): Record<string, string> =>
    Object.fromEntries(Object.entries(good()).filter(([k]) => k !== name));

  it.each([
    ["grant_type", 400, "invalid_request", 900144],
    ["client_id", 400, "invalid_request", 900144],
    ["scope", 400, "invalid_request", 900144],
    ["client_secret", 401, "invalid_client", 7000218],
  ])("without %s answers %i %s AADSTS%i", async (name, status, error, code) => {
    const res = await entraToken(without(name));
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error, error_codes: [code] });
    expect(res.body.error_description).toContain(`'${name === "client_secret" ? "client_assertion" : name}'`);
  });

  it.each([
    [{ grant_type: "password" }, 400, "unsupported_grant_type", 70003],
    [{ scope: "https://graph.microsoft.com/User.Read" }, 400, "invalid_scope", 1002012],
    [
      { scope: "https://graph.microsoft.com/.default https://graph.microsoft.com/.default" },
      400,
      "invalid_scope",
      1002012,
    ],
    [{ scope: "https://vault.azure.net/.default" }, 400, "invalid_resource", 500011],
    [{ client_id: "00000000-0000-0000-0000-00000000dead" }, 400, "unauthorized_client", 700016],
    [{ client_secret: "", client_assertion: "eyJ" }, 401, "invalid_client", 700027],
  ])("%j answers %i %s AADSTS%i", async (change, status, error, code) => {
    const res = await entraToken({ ...good(), ...change });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error, error_codes: [code] });
  });

  it("takes client_secret_basic: id and secret form-urlencoded, then base64", async () => {
    const { client_id: id, client_secret: secret, ...form } = good();
    const basic = Buffer.from(
      `${encodeURIComponent(id)}:${encodeURIComponent(secret).replace(/%20/g, "+")}`,
    ).toString("base64");
    const res = await entraToken(form, { authorization: `Basic ${basic}` });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe("Bearer");
  });
});

describe("Block Kit and PagerDuty validation", () => {
  it.each(["constructor", "toString", "hasOwnProperty", "__proto__"])("'%s' is not a block type", (type) => {
    expect(blockKitProblem([{ type }])).toBe(`blocks[0].type '${type}' is not a block type`);
  });

  it.each([
    [
      [
        {
          type: "section",
          fields: [
            { type: "mrkdwn", text: "a" },
            { type: "mrkdwn", text: "" },
          ],
        },
      ],
      "blocks[0].fields[1].text must be a non-empty string",
    ],
    [
      [{ type: "section", text: { type: "plain_text", text: "x" }, fields: [] }],
      "blocks[0].fields must be a non-empty array",
    ],
    [
      [
        {
          type: "actions",
          elements: [{ type: "button", text: { type: "plain_text", text: "Open" }, url: 5 }],
        },
      ],
      "blocks[0].elements[0].url must be a string of at most 3000 characters",
    ],
    [
      [
        {
          type: "actions",
          elements: [{ type: "overflow" }, { type: "button", text: { type: "mrkdwn", text: "x" } }],
        },
      ],
      "blocks[0].elements[1].text.type must be plain_text",
    ],
    [
      [{ type: "context", elements: [{ type: "image" }, "text"] }],
      "blocks[0].elements[1] must be an object with a type",
    ],
    [
      [{ type: "divider" }, { type: "header", block_id: 5, text: { type: "plain_text", text: "x" } }],
      "blocks[1].block_id must be a string of at most 255 characters",
    ],
  ])("%j: %s", (blocks, problem) => {
    expect(blockKitProblem(blocks)).toBe(problem);
  });

  it("lists every problem of an event, in PagerDuty's order", async () => {
    const post = (body: unknown) =>
      fetch(sim.sinks.urls.pagerduty, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const trigger = await post({ event_action: "trigger", dedup_key: 5, payload: [] });
    expect(trigger.status).toBe(400);
    expect(((await trigger.json()) as { errors: string[] }).errors).toEqual([
      "'routing_key' is missing or blank",
      "'dedup_key' must be a string of at most 255 characters",
      "'payload' is missing or invalid",
    ]);
    const ack = await post({ routing_key: "R", event_action: "acknowledge" });
    expect(ack.status).toBe(400);
    expect(((await ack.json()) as { errors: string[] }).errors).toEqual([
      "'dedup_key' is required for acknowledge and resolve events",
    ]);
  });
});
