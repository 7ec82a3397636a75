/**
 * `nylasWebhook` through the official seams, as the Functions host calls it:
 * `new HttpRequest({ method, url, body: { string }, headers })` and
 * `new InvocationContext({ logHandler })`, with the shared deps set by
 * `setRuntimeDeps(createDeps(loadConfig(env), …))`. The product's log lines
 * must land in the invocation's log.
 */
import azureFunctions from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { nylasWebhook } from "../../functions/nylas-webhook.js";
import { loadConfig } from "../../lib/config.js";
import { createDeps, type Deps } from "../../lib/deps.js";
import { MAX_BODY_BYTES } from "../../lib/grants/handle-nylas-webhook.js";
import { signNylasBody } from "../../lib/grants/verify-nylas-signature.js";
import { invocationLogger, setRuntimeDeps } from "../../lib/runtime.js";
import { acceptedAlerts, oncePerSink, tally } from "../helpers/alerts.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

const { HttpRequest, InvocationContext } = azureFunctions;

let w: World;
let log: string[];
let context: InstanceType<typeof InvocationContext>;
const URL_ = "http://localhost:7071/api/nylas/webhook";

beforeAll(async () => {
  w = await startWorld({ host: false });
});
afterAll(async () => {
  await w?.close();
});
beforeEach(() => {
  setRuntimeDeps(w.deps);
  w.sim.sinks.clear();
  log = [];
  context = new InvocationContext({
    functionName: "nylasWebhook",
    invocationId: crypto.randomUUID(),
    logHandler: (level, ...args) => void log.push(`${level} ${args.map(String).join(" ")}`),
  });
});

function post(body: string, headers: Record<string, string>) {
  return nylasWebhook(
    new HttpRequest({ method: "POST", url: URL_, body: { string: body }, headers }),
    context,
  );
}

function signedPost(body: string, contentType = "application/json") {
  return post(body, {
    "content-type": contentType,
    "x-nylas-signature": signNylasBody(body, w.secrets.NYLAS_WEBHOOK_SECRET!),
  });
}

describe("nylasWebhook (Azure Functions seams)", () => {
  it("GET ?challenge=X → 200, exactly X, text/plain", async () => {
    const challenge = `ch4llenge-${crypto.randomUUID()} "quoted" ü+/=`;
    const url = `${URL_}?challenge=${encodeURIComponent(challenge)}`;
    const res = await nylasWebhook(new HttpRequest({ method: "GET", url }), context);
    expect(res.status).toBe(200);
    expect(res.body).toBe(challenge);
    expect(new Headers(res.headers as Record<string, string>).get("content-type")).toMatch(/^text\/plain/);
  });

  it("GET without a challenge → 400", async () => {
    const res = await nylasWebhook(new HttpRequest({ method: "GET", url: URL_ }), context);
    expect(res.status).toBe(400);
  });

  it("a genuine grant.expired → 200 accepted, incident raised, alerts sent, logged in the invocation's log", async () => {
    const g = w.grants[0]!;
    const built = w.build("grant.expired", g);
    const res = await post(built.body, built.headers);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({ status: "accepted", outcome: "raised" });
    expect(tally(acceptedAlerts(w.sim.sinks.received))).toEqual(
      oncePerSink([["triggered", `grant.invalid:${g.id}`]]),
    );
    expect(log.some((l) => l.startsWith("warning") && l.includes(`grant ${g.id} (microsoft) expired`))).toBe(
      true,
    );
    expect(log.some((l) => l.includes("Alerts: 4 delivered"))).toBe(true);
  });

  it("accepts application/json with parameters or in another case", async () => {
    for (const contentType of ["application/json; charset=utf-8", "Application/JSON"]) {
      const built = w.build("grant.deleted", w.grants[1]!);
      const res = await signedPost(built.body, contentType);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body as string)).toEqual({ status: "accepted", outcome: "no-incident" });
    }
  });

  it("each rejection has its own status", async () => {
    const { body } = w.build("grant.expired", w.grants[1]!);
    const statuses = {
      noSignature: (await post(body, { "content-type": "application/json" })).status,
      badSignature: (
        await post(body, { "content-type": "application/json", "x-nylas-signature": "0".repeat(64) })
      ).status,
      tooLarge: (await signedPost(`${body}${" ".repeat(MAX_BODY_BYTES)}`)).status,
      unsupportedEncoding: (
        await post(body, {
          "content-encoding": "br",
          "x-nylas-signature": signNylasBody(body, w.secrets.NYLAS_WEBHOOK_SECRET!),
        })
      ).status,
      invalidJson: (await signedPost("{not json")).status,
      unknownType: (await signedPost(JSON.stringify({ ...JSON.parse(body), type: "message.created" })))
        .status,
      put: (
        await nylasWebhook(new HttpRequest({ method: "PUT", url: URL_, body: { string: body } }), context)
      ).status,
    };
    expect(statuses).toEqual({
      noSignature: 401,
      badSignature: 401,
      tooLarge: 413,
      unsupportedEncoding: 415,
      invalidJson: 400,
      unknownType: 200,
      put: 405,
    });
    expect(log.filter((l) => l.includes("invalid x-nylas-signature"))).toHaveLength(2);
    expect(w.sim.sinks.received).toEqual([]);
  });

  describe("without NYLAS_WEBHOOK_SECRET", () => {
    let failClosed: Deps;
    beforeAll(() => {
      const env = { ...w.env };
      delete env.NYLAS_WEBHOOK_SECRET;
      failClosed = createDeps(loadConfig(env), invocationLogger(), { clock: w.clock });
    });

    it("refuses every POST, even one signed with the right secret, says why in the log, and changes nothing", async () => {
      setRuntimeDeps(failClosed);
      const before = w.stateFiles();
      const built = w.build("grant.expired", w.grants[2]!);
      const answers = [
        await post(built.body, built.headers),
        await post(built.body, { "content-type": "application/json" }),
        await post("{}", { "content-type": "application/json", "x-nylas-signature": "0".repeat(64) }),
      ];
      expect(answers.map((a) => a.status)).toEqual([503, 503, 503]);
      expect(
        log.filter((l) => l.startsWith("error") && l.includes("NYLAS_WEBHOOK_SECRET is not set")),
      ).toHaveLength(3);
      expect(w.stateFiles()).toEqual(before);
      expect(w.sim.sinks.received).toEqual([]);
    });

    it("still answers Nylas's challenge (creating the webhook is how the secret is obtained)", async () => {
      setRuntimeDeps(failClosed);
      const res = await nylasWebhook(
        new HttpRequest({ method: "GET", url: `${URL_}?challenge=abc123` }),
        context,
      );
      expect(res.status).toBe(200);
      expect(res.body).toBe("abc123");
    });
  });
});
