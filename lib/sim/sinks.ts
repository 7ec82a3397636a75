/**
 * One HTTPS server playing every alert destination the watchdog posts to:
 * Slack incoming webhooks, Teams Workflows webhooks, PagerDuty Events API v2,
 * and a generic JSON webhook. Each validates like the real one (so a bad
 * payload fails in tests, not in production) and records what arrived.
 */
import { newHex } from "./ids.js";
import {
  jsonResponse,
  textResponse,
  type ServiceHandler,
  type SimRequest,
  type SimResponse,
} from "./http.js";

/** The alert destinations the sinks server plays (the first path segment). */
export type SinkName = "slack" | "teams" | "pagerduty" | "webhook";

/** A request a sink accepted or rejected (requests answered by a fault never reach the sink). */
export interface SinkReceipt {
  sink: SinkName;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The raw body, as sent (signatures are computed over it). */
  body: string;
  /** Status the sink answered. */
  status: number;
  at: Date;
}

const PD_SEVERITIES = new Set(["critical", "error", "warning", "info"]);
const PD_ACTIONS = new Set(["trigger", "acknowledge", "resolve"]);

/**
 * Block Kit limits Slack enforces on a message's blocks
 * (https://api.slack.com/reference/block-kit/blocks); one block over them and
 * the incoming webhook refuses the whole message with 400 `invalid_blocks`.
 */
export const SLACK_BLOCK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  contextElements: 10,
  contextText: 3000,
  blockId: 255,
} as const;

/** What the sinks received, and their URLs (`sim.sinks`). */
export class SinkReceiver {
  readonly received: SinkReceipt[] = [];
  /**
   * Slack checks `blocks` against Block Kit (`SLACK_BLOCK_LIMITS`) and answers
   * 400 `invalid_blocks`. Default true; false accepts any `blocks`.
   */
  validateSlackBlocks = true;
  #base = "";

  /** Set by the simulator once the server listens. */
  setBaseUrl(url: string): void {
    this.#base = url;
  }

  /** Ready-made URLs for each sink (any path under the prefix works). */
  get urls(): Record<SinkName, string> {
    return {
      slack: `${this.#base}/slack/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX`,
      teams: `${this.#base}/teams/workflows/sim/triggers/manual/paths/invoke?api-version=1`,
      pagerduty: `${this.#base}/pagerduty/v2/enqueue`,
      webhook: `${this.#base}/webhook/watchdog`,
    };
  }

  /** Receipts of one sink, in arrival order. */
  of(sink: SinkName): SinkReceipt[] {
    return this.received.filter((r) => r.sink === sink);
  }

  /** Receipts whose body parses as JSON, parsed (invalid bodies skipped). */
  json(sink: SinkName): unknown[] {
    const out: unknown[] = [];
    for (const r of this.of(sink)) {
      try {
        out.push(JSON.parse(r.body));
      } catch {
        // not JSON: visible in `received`
      }
    }
    return out;
  }

  clear(): void {
    this.received.length = 0;
  }
}

function sinkOf(path: string): SinkName | undefined {
  const first = path.split("/")[1];
  return first === "slack" || first === "teams" || first === "pagerduty" || first === "webhook"
    ? first
    : undefined;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

type Json = Record<string, unknown>;
type Problem = string | undefined;
type Check = (item: Json, where: string) => Problem;
const L = SLACK_BLOCK_LIMITS;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

function textObject(v: unknown, max: number, where: string, plainOnly = false): Problem {
  if (!isObject(v)) return `${where} must be a text object`;
  if (v.type !== "plain_text" && (plainOnly || v.type !== "mrkdwn"))
    return `${where}.type must be ${plainOnly ? "plain_text" : "plain_text or mrkdwn"}`;
  if (typeof v.text !== "string" || v.text.length === 0) return `${where}.text must be a non-empty string`;
  if (v.text.length > max) return `${where}.text must be less than ${max + 1} characters`;
  return undefined;
}

function list(v: unknown, max: number, where: string): unknown[] | string {
  if (!Array.isArray(v) || v.length === 0) return `${where} must be a non-empty array`;
  if (v.length > max) return `${where} must have no more than ${max} items`;
  return v as unknown[];
}

/** The first problem of `items`, each checked by `check` once it is an object with a type. */
function itemsProblem(items: unknown[], where: string, check: Check): Problem {
  for (let n = 0; n < items.length; n++) {
    const item: unknown = items[n];
    if (!isObject(item) || typeof item.type !== "string")
      return `${where}[${n}] must be an object with a type`;
    const problem = check(item, `${where}[${n}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function sectionProblem(b: Json, at: string): Problem {
  if (b.text === undefined && b.fields === undefined) return `${at} needs text or fields`;
  const problem = b.text === undefined ? undefined : textObject(b.text, L.sectionText, `${at}.text`);
  if (problem !== undefined || b.fields === undefined) return problem;
  const fields = list(b.fields, L.sectionFields, `${at}.fields`);
  if (typeof fields === "string") return fields;
  for (let f = 0; f < fields.length; f++) {
    const fieldProblem = textObject(fields[f], L.fieldText, `${at}.fields[${f}]`);
    if (fieldProblem !== undefined) return fieldProblem;
  }
  return undefined;
}

function buttonProblem(el: Json, where: string): Problem {
  if (el.type !== "button") return undefined;
  const problem = textObject(el.text, L.buttonText, `${where}.text`, true);
  if (problem !== undefined || el.url === undefined) return problem;
  if (typeof el.url !== "string" || el.url.length > L.buttonUrl)
    return `${where}.url must be a string of at most ${L.buttonUrl} characters`;
  return undefined;
}

function elementsProblem(b: Json, at: string, max: number, check: Check): Problem {
  const elements = list(b.elements, max, `${at}.elements`);
  return typeof elements === "string" ? elements : itemsProblem(elements, `${at}.elements`, check);
}

const noProblem = (): Problem => undefined;
/** Block Kit's block types, each with what Slack checks in it (a Map: `b.type` may be "constructor"). */
const BLOCK_CHECKS = new Map<string, Check>([
  ["header", (b, at) => textObject(b.text, L.headerText, `${at}.text`, true)],
  ["section", sectionProblem],
  ["actions", (b, at) => elementsProblem(b, at, L.actionsElements, buttonProblem)],
  [
    "context",
    (b, at) =>
      elementsProblem(b, at, L.contextElements, (el, where) =>
        el.type === "image" ? undefined : textObject(el, L.contextText, where),
      ),
  ],
  ...["divider", "image", "rich_text", "input", "file", "video", "markdown"].map(
    (t) => [t, noProblem] as const,
  ),
]);

function blockProblem(b: Json, at: string): Problem {
  if (b.block_id !== undefined && (typeof b.block_id !== "string" || b.block_id.length > L.blockId))
    return `${at}.block_id must be a string of at most ${L.blockId} characters`;
  const check = BLOCK_CHECKS.get(b.type as string);
  return check === undefined ? `${at}.type '${b.type as string}' is not a block type` : check(b, at);
}

/** The first Block Kit violation in `blocks`, or undefined when Slack would take them. */
export function blockKitProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return "blocks must be an array";
  if (blocks.length > L.blocks) return `no more than ${L.blocks} blocks`;
  return itemsProblem(blocks, "blocks", blockProblem);
}

function slack(req: SimRequest, receiver: SinkReceiver): SimResponse {
  const p = parseJson(req.body);
  if (!isObject(p)) return textResponse(400, "invalid_payload", { "content-type": "text/html" });
  // Slack refuses the whole message for one bad block.
  if (receiver.validateSlackBlocks && p.blocks !== undefined && blockKitProblem(p.blocks) !== undefined)
    return textResponse(400, "invalid_blocks", { "content-type": "text/html" });
  const hasText = typeof p.text === "string" && p.text.trim() !== "";
  const hasBlocks = Array.isArray(p.blocks) && p.blocks.length > 0;
  const hasAttachments = Array.isArray(p.attachments) && p.attachments.length > 0;
  // Slack answers `no_text` when a well-formed payload has nothing to show.
  if (!hasText && !hasBlocks && !hasAttachments)
    return textResponse(400, "no_text", { "content-type": "text/html" });
  return textResponse(200, "ok", { "content-type": "text/html" });
}

function teams(req: SimRequest): SimResponse {
  if (parseJson(req.body) === undefined) {
    return jsonResponse(400, {
      error: {
        code: "InvalidRequestContent",
        message:
          "The input body for trigger 'manual' of type 'Request' must be of type JSON, but was of type 'application/octet-stream'.",
      },
    });
  }
  // Workflows accepts the request and runs the flow later: 202, empty body.
  return { status: 202, headers: { "content-length": "0" }, body: "" };
}

const blank = (v: unknown) => typeof v !== "string" || v.trim() === "";
const onPayload = (fails: (p: Json) => boolean) => (e: Json) =>
  e.event_action === "trigger" && isObject(e.payload) && fails(e.payload);
/** Events API v2's checks, in the order PagerDuty lists what is wrong with an event. */
const PD_RULES: [fails: (e: Json) => boolean, error: string][] = [
  [(e) => blank(e.routing_key), "'routing_key' is missing or blank"],
  [
    (e) => typeof e.event_action !== "string" || !PD_ACTIONS.has(e.event_action),
    "'event_action' is invalid (must be one of: 'trigger', 'acknowledge' or 'resolve')",
  ],
  [
    (e) => e.dedup_key !== undefined && (typeof e.dedup_key !== "string" || e.dedup_key.length > 255),
    "'dedup_key' must be a string of at most 255 characters",
  ],
  [(e) => e.event_action === "trigger" && !isObject(e.payload), "'payload' is missing or invalid"],
  [onPayload((p) => blank(p.summary)), "'payload.summary' is missing or blank"],
  [onPayload((p) => blank(p.source)), "'payload.source' is missing or blank"],
  [
    onPayload((p) => typeof p.severity !== "string" || !PD_SEVERITIES.has(p.severity)),
    "'payload.severity' is invalid (must be one of: 'critical', 'error', 'warning' or 'info')",
  ],
  [
    (e) =>
      (e.event_action === "acknowledge" || e.event_action === "resolve") && typeof e.dedup_key !== "string",
    "'dedup_key' is required for acknowledge and resolve events",
  ],
];

function pagerduty(req: SimRequest): SimResponse {
  const invalid = (errors: string[]) =>
    jsonResponse(400, { status: "invalid event", message: "Event object is invalid", errors });
  const e = parseJson(req.body);
  if (!isObject(e)) return invalid(["Could not parse the request body as JSON."]);
  const errors = PD_RULES.filter(([fails]) => fails(e)).map(([, error]) => error);
  if (errors.length > 0) return invalid(errors);
  return jsonResponse(202, {
    status: "success",
    message: "Event processed",
    dedup_key: typeof e.dedup_key === "string" ? e.dedup_key : newHex(16),
  });
}

/** Creates the sinks handler; `receiver` collects what arrives. */
export function createSinksService(receiver: SinkReceiver, now: () => Date): ServiceHandler {
  return {
    handle(req) {
      const sink = sinkOf(req.path);
      if (sink === undefined) return textResponse(404, "Not Found");
      if (sink === "pagerduty" && req.path !== "/pagerduty/v2/enqueue") return textResponse(404, "Not Found");
      if (req.method !== "POST") return textResponse(405, "Method Not Allowed", { allow: "POST" });
      const res =
        sink === "slack"
          ? slack(req, receiver)
          : sink === "teams"
            ? teams(req)
            : sink === "pagerduty"
              ? pagerduty(req)
              : textResponse(200, "ok");
      receiver.received.push({
        sink,
        path: req.path,
        headers: req.headers,
        body: req.body,
        status: res.status,
        at: now(),
      });
      return res;
    },

    errorResponse(status, req) {
      const sink = sinkOf(req.path);
      if (sink === "pagerduty") {
        if (status === 429) {
          return jsonResponse(429, {
            status: "throttle event",
            message: "Requests for this service are arriving too quickly.  Please retry later.",
          });
        }
        return jsonResponse(status, { status: "error", message: "Internal Server Error" });
      }
      if (sink === "slack") {
        return textResponse(
          status,
          status === 429 ? "rate_limited" : status === 404 ? "no_service" : "internal_error",
          {
            "content-type": "text/html",
          },
        );
      }
      if (sink === "teams") {
        return jsonResponse(status, {
          error: {
            code: status === 429 ? "TooManyRequests" : "InternalServerError",
            message: "Simulated failure.",
          },
        });
      }
      return textResponse(status, status === 429 ? "Too Many Requests" : "Internal Server Error");
    },
  };
}
