import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { blockKitProblem, startSimulator, type Simulator } from "../../../lib/sim/index.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: false });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.sinks.validateSlackBlocks = true;
});

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function answer(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await post(url, body);
  return { status: res.status, text: await res.text() };
}

const header = (text: string) => ({ type: "header", text: { type: "plain_text", text } });
const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });

// fidelity: S1
describe("Slack incoming webhook and Block Kit", () => {
  it("takes a well-formed Block Kit message", async () => {
    const message = {
      text: "fallback",
      blocks: [
        header("🔴 Azure secret expires in 3 days"),
        { type: "section", fields: [{ type: "mrkdwn", text: "*Severity*\ncritical" }] },
        section("x".repeat(3000)),
        {
          type: "actions",
          elements: [
            {
              type: "button",
              text: { type: "plain_text", text: "Open" },
              url: "https://example.com",
              action_id: "a",
            },
          ],
        },
        { type: "divider" },
        { type: "context", elements: [{ type: "mrkdwn", text: "secret-watchdog" }] },
      ],
    };
    expect(await answer(sim.sinks.urls.slack, message)).toEqual({ status: 200, text: "ok" });
  });

  it.each([
    ["blocks not an array", { text: "t", blocks: { type: "section" } }],
    ["a block without a type", { text: "t", blocks: [{ text: { type: "mrkdwn", text: "x" } }] }],
    ["a block that is not an object", { text: "t", blocks: ["section"] }],
    ["an unknown block type", { text: "t", blocks: [{ type: "paragraph" }] }],
    ["a section text over 3000 characters", { text: "t", blocks: [section("x".repeat(3001))] }],
    ["a header over 150 characters", { text: "t", blocks: [header("h".repeat(151))] }],
    ["a header in mrkdwn", { text: "t", blocks: [{ type: "header", text: { type: "mrkdwn", text: "h" } }] }],
    [
      "eleven fields",
      {
        text: "t",
        blocks: [
          { type: "section", fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" })) },
        ],
      },
    ],
    [
      "a field over 2000 characters",
      { text: "t", blocks: [{ type: "section", fields: [{ type: "mrkdwn", text: "f".repeat(2001) }] }] },
    ],
    ["a section with neither text nor fields", { text: "t", blocks: [{ type: "section" }] }],
    ["an empty text", { text: "t", blocks: [section("")] }],
    ["51 blocks", { text: "t", blocks: Array.from({ length: 51 }, () => ({ type: "divider" })) }],
    [
      "a button text over 75 characters",
      {
        text: "t",
        blocks: [
          {
            type: "actions",
            elements: [
              { type: "button", text: { type: "plain_text", text: "b".repeat(76) }, url: "https://x" },
            ],
          },
        ],
      },
    ],
    [
      "eleven context elements",
      {
        text: "t",
        blocks: [
          { type: "context", elements: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "c" })) },
        ],
      },
    ],
  ])("answers 400 invalid_blocks for %s", async (_name, message) => {
    const before = sim.sinks.of("slack").length;
    expect(await answer(sim.sinks.urls.slack, message)).toEqual({ status: 400, text: "invalid_blocks" });
    expect(
      sim.sinks
        .of("slack")
        .slice(before)
        .map((r) => r.status),
    ).toEqual([400]);
  });

  it("takes any blocks with validateSlackBlocks = false", async () => {
    sim.sinks.validateSlackBlocks = false;
    expect(await answer(sim.sinks.urls.slack, { text: "t", blocks: [section("x".repeat(3001))] })).toEqual({
      status: 200,
      text: "ok",
    });
  });

  it("blockKitProblem() names the first problem", () => {
    expect(blockKitProblem([section("x".repeat(3001))])).toMatch(/less than 3001 characters/);
    expect(blockKitProblem([{ type: "divider" }])).toBeUndefined();
  });
});

// fidelity: S2
describe("Teams Workflows webhook", () => {
  it("answers 202 to any JSON, a broken card included: the flow fails later, out of the sender's sight", async () => {
    for (const body of [
      { type: "message", attachments: [] },
      {
        type: "message",
        attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: 42 }],
      },
      { hello: "world" },
      [],
      "null",
    ]) {
      const res = await answer(sim.sinks.urls.teams, body);
      expect(res, JSON.stringify(body)).toEqual({ status: 202, text: "" });
    }
  });
});

// fidelity: S3
describe("PagerDuty Events API v2", () => {
  const trigger = {
    routing_key: "R0123456789012345678901234567890",
    event_action: "trigger",
    dedup_key: "secret-watchdog:expiry:app-1",
    payload: { summary: "Azure secret expires in 3 days", source: "secret-watchdog", severity: "critical" },
  };
  const without = (field: string): Record<string, unknown> => {
    if (!field.startsWith("payload.")) {
      const { [field]: _dropped, ...rest } = trigger as Record<string, unknown>;
      return rest;
    }
    const { [field.slice(8)]: _dropped, ...payload } = trigger.payload as Record<string, unknown>;
    return { ...trigger, payload };
  };

  it.each([
    ["payload.source", "'payload.source' is missing or blank"],
    ["payload.summary", "'payload.summary' is missing or blank"],
    [
      "payload.severity",
      "'payload.severity' is invalid (must be one of: 'critical', 'error', 'warning' or 'info')",
    ],
    ["routing_key", "'routing_key' is missing or blank"],
    ["event_action", "'event_action' is invalid (must be one of: 'trigger', 'acknowledge' or 'resolve')"],
  ])("answers 400 invalid event when %s is missing", async (field, error) => {
    const res = await post(sim.sinks.urls.pagerduty, without(field));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      status: "invalid event",
      message: "Event object is invalid",
      errors: [error],
    });
  });

  it("accepts a resolve with only routing_key, event_action and dedup_key", async () => {
    const res = await post(sim.sinks.urls.pagerduty, {
      routing_key: trigger.routing_key,
      event_action: "resolve",
      dedup_key: trigger.dedup_key,
    });
    expect(res.status).toBe(202);
  });
});
