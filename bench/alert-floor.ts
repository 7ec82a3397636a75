/**
 * The floor of the alert figure: a bare Node server, no SDK, nothing from lib/
 * and no state, that does the HTTP work `watchdog serve` does for one signed
 * grant.expired. It verifies the signature, asks Nylas for the grant (the
 * product's stale check), answers 200, then posts the alert to each of the
 * four sinks on its own: a slow sink delays no other. Each body is the size of
 * the product's to that sink (BENCH_SINK_BYTES), the webhook's signed the same
 * way.
 *
 * It talks HTTPS through `node:https` with keep-alive and no cap on sockets:
 * about half the CPU of `fetch` per request on the bench machine (2.4 against
 * 4.6 ms a notification at 200/s, 2026-12-02), so the floor is the least a
 * Node process can spend on this work. Uncapped, because every sink of the
 * simulator is one origin: with a cap, the slow sink's open requests would
 * queue the others' behind them.
 *
 *   node dist/bench/alert-floor.js   (settings from the environment serve gets,
 *                                     plus BENCH_SINK_BYTES: "slack=1817,teams=2036,…")
 *
 * Prints `listening on http://127.0.0.1:<port>`, as serve does.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { Agent, request } from "node:https";

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`alert floor: ${name} is not set`);
  return value;
}

const webhookSecret = env("NYLAS_WEBHOOK_SECRET");
const nylasUri = env("NYLAS_API_URI").replace(/\/+$/, "");
const nylasKey = env("NYLAS_API_KEY");
const routingKey = env("PAGERDUTY_ROUTING_KEY");
const alertSecret = env("ALERT_WEBHOOK_SECRET");
// Read once at start, as serve reads its settings: not per notification, on the path being timed.
const sinkUrls = {
  slack: env("SLACK_WEBHOOK_URL"),
  teams: env("TEAMS_WEBHOOK_URL"),
  pagerduty: env("PAGERDUTY_EVENTS_URL"),
  webhook: env("ALERT_WEBHOOK_URL"),
};
const bytes = new Map(
  env("BENCH_SINK_BYTES")
    .split(",")
    .map((pair) => pair.split("=") as [string, string])
    .map(([sink, n]) => [sink, Number(n)]),
);

const agent = new Agent({ keepAlive: true });

/** Sends one request and reads the whole answer; rejects on a network error or a status of 300 or more. */
function send(url: string, headers: Record<string, string>, body?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) };
    const req = request(
      url,
      { method: body === undefined ? "GET" : "POST", agent, headers: { ...headers, ...length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          (res.statusCode ?? 0) < 300
            ? resolve(Buffer.concat(chunks))
            : reject(new Error(`answered ${res.statusCode}`)),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** `body` with a `pad` property that brings its JSON to the product's size for `sink`. */
function sized(sink: string, body: Record<string, unknown>): string {
  const bare = JSON.stringify({ ...body, pad: "" });
  return JSON.stringify({ ...body, pad: "x".repeat(Math.max(0, (bytes.get(sink) ?? 0) - bare.length)) });
}

interface Alert {
  sink: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The four alerts for a grant, each with the fields its sink requires and the grant id where the bench looks for it. */
function alertsFor(grantId: string, email: string): Alert[] {
  const text = `Grant ${grantId} (${email}) expired: the user must sign in again.`;
  const json = { "content-type": "application/json" };
  const webhook = sized("webhook", { event: "incident.triggered", grant_id: grantId, text });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", alertSecret).update(`${timestamp}.${webhook}`).digest("hex");
  return [
    {
      sink: "slack",
      url: sinkUrls.slack,
      headers: json,
      body: sized("slack", { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] }),
    },
    { sink: "teams", url: sinkUrls.teams, headers: json, body: sized("teams", { text }) },
    {
      sink: "pagerduty",
      url: sinkUrls.pagerduty,
      headers: json,
      body: sized("pagerduty", {
        routing_key: routingKey,
        event_action: "trigger",
        dedup_key: `grant.invalid:${grantId}`,
        payload: { summary: text, source: "alert-floor", severity: "critical" },
      }),
    },
    {
      sink: "webhook",
      url: sinkUrls.webhook,
      headers: { ...json, "x-watchdog-timestamp": timestamp, "x-watchdog-signature": `sha256=${signature}` },
      body: webhook,
    },
  ];
}

function verified(body: Buffer, signature: string | undefined): boolean {
  const expected = Buffer.from(createHmac("sha256", webhookSecret).update(body).digest("hex"));
  const given = Buffer.from((signature ?? "").trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    void (async () => {
      const body = Buffer.concat(chunks);
      const signature = req.headers["x-nylas-signature"];
      if (req.method !== "POST" || !verified(body, typeof signature === "string" ? signature : undefined)) {
        res.writeHead(401).end();
        return;
      }
      const object = (JSON.parse(body.toString("utf8")) as { data: { object: { grant_id: string } } }).data
        .object;
      const grant = await send(`${nylasUri}/v3/grants/${encodeURIComponent(object.grant_id)}`, {
        authorization: `Bearer ${nylasKey}`,
        accept: "application/json",
      });
      const { data } = JSON.parse(grant.toString("utf8")) as { data: { email: string } };
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      for (const alert of alertsFor(object.grant_id, data.email)) {
        // Each on its own: a slow sink holds up nothing but itself.
        send(alert.url, alert.headers, alert.body).catch((error: unknown) =>
          process.stderr.write(`alert floor: ${alert.sink}: ${String(error)}\n`),
        );
      }
    })().catch((error: unknown) => {
      process.stderr.write(`alert floor: ${String(error)}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("alert floor: no port");
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
