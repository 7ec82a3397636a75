/**
 * Every form in which Nylas delivers a notification is accepted through the
 * real host (`watchdog serve`): a 4xx is never retried by Nylas, so refusing a
 * genuine delivery loses it. Compressed deliveries (the signature covers the
 * gzip bytes), the signature variants Nylas's own receiver accepts, optional
 * fields sent as null, any Content-Type. Test events are acknowledged and
 * raise nothing.
 */
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signNylasBody } from "../../lib/grants/verify-nylas-signature.js";
import { startWorld, type World } from "../helpers/watchdog-world.js";

let w: World;
beforeEach(async () => {
  w = await startWorld();
});
afterEach(async () => {
  await w.close();
});

const sign = (body: string | Buffer) => signNylasBody(body, w.secrets.NYLAS_WEBHOOK_SECRET!);
const grantIncidents = async () => (await w.incidents()).filter((i) => i.kind === "grant.invalid");

/** A genuine grant.expired for a grant that really went invalid. */
function expired(index: number) {
  const grant = w.grants[index]!;
  grant.grant_status = "invalid";
  return { grant, built: w.build("grant.expired", grant) };
}

describe("deliveries in every form Nylas sends are accepted", () => {
  // fidelity: W1
  it("a compressed delivery: gzip bytes signed as sent, then inflated", async () => {
    const { grant, built } = expired(0);
    const zipped = gzipSync(built.body);
    const res = await w.post(zipped, {
      "content-type": "application/json",
      "content-encoding": "GZip",
      "x-nylas-signature": sign(zipped),
    });
    expect(res.status).toBe(200);
    expect((await grantIncidents()).map((i) => i.key)).toEqual([`grant.invalid:${grant.id}`]);
  });

  // fidelity: W2
  it.each([
    ["upper-case hex", (s: string) => s.toUpperCase()],
    ["a sha256= prefix", (s: string) => `sha256=${s}`],
    ["surrounding spaces", (s: string) => `  ${s} `],
  ])("a signature with %s", async (_name, variant) => {
    const { grant, built } = expired(0);
    const res = await w.post(built.body, {
      "content-type": "application/json",
      "x-nylas-signature": variant(sign(built.body)),
    });
    expect(res.status).toBe(200);
    expect((await grantIncidents()).map((i) => i.key)).toEqual([`grant.invalid:${grant.id}`]);
  });

  it("any Content-Type (or none): the signature already authenticates the body", async () => {
    const { built } = expired(0);
    const res = await w.post(built.body, {
      "content-type": "text/plain",
      "x-nylas-signature": sign(built.body),
    });
    expect(res.status).toBe(200);
    expect(await grantIncidents()).toHaveLength(1);
  });

  // fidelity: W3
  it("optional fields sent as null", async () => {
    const { grant, built } = expired(0);
    const notification = JSON.parse(built.body) as { data: { object: Record<string, unknown> } };
    Object.assign(notification.data.object, { email: null, provider: null, grant_updated_at: null });
    const body = JSON.stringify(notification);
    const res = await w.post(body, { "content-type": "application/json", "x-nylas-signature": sign(body) });
    expect(res.status).toBe(200);
    expect((await grantIncidents()).map((i) => i.key)).toEqual([`grant.invalid:${grant.id}`]);
  });
});

describe("replays and handshakes", () => {
  it("a delivery sent longer ago than duplicates are remembered (7 days) is acknowledged and raises nothing", async () => {
    const { built } = expired(0);
    const notification = JSON.parse(built.body) as { time: number };
    notification.time = Math.floor(w.clock.now().getTime() / 1000) - 8 * 86_400;
    const body = JSON.stringify(notification);
    const res = await w.post(body, { "content-type": "application/json", "x-nylas-signature": sign(body) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: "stale" });
    expect(await grantIncidents()).toEqual([]);
  });

  it("the challenge echo is sent as text with nosniff", async () => {
    const res = await fetch(`${w.webhookUrl}?challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E`);
    expect(await res.text()).toBe("<script>alert(1)</script>");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("test events", () => {
  // fidelity: W7
  it("a mock grant.expired (id mock-id, grant NYLAS_GRANT_ID) is acknowledged and raises nothing, twice", async () => {
    const notification = {
      specversion: "1.0",
      type: "grant.expired",
      source: "/nylas/system",
      id: "mock-id",
      time: Math.floor(w.clock.now().getTime() / 1000),
      webhook_delivery_attempt: 1,
      data: { application_id: "NYLAS_APPLICATION_ID", object: { grant_id: "NYLAS_GRANT_ID", code: 25009 } },
    };
    const body = JSON.stringify(notification);
    for (let i = 0; i < 2; i++) {
      const res = await w.post(body, { "content-type": "application/json", "x-nylas-signature": sign(body) });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ status: "test" });
    }
    expect(await w.incidents()).toEqual([]);
    expect(w.sim.sinks.received).toEqual([]);
  });

  it("a grant.expired for a grant Nylas answers 404 for raises nothing", async () => {
    const { grant, built } = expired(0);
    w.sim.tenant.nylas.removeGrant(grant.id);
    const res = await w.deliver(built);
    expect(res.status).toBe(200);
    expect(await grantIncidents()).toEqual([]);
  });
});
