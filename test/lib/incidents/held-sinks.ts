/**
 * Two webhook sinks whose answers a test releases: "webhook" (healthy) and one
 * named "slack" at a URL with "slow" in it, held until `releaseSlow`. For the
 * tests of a slow sink beside a healthy one in the same drain.
 */
import type { SinkName } from "../../../lib/incidents/incident.js";
import { createWebhookSink } from "../../../lib/incidents/sinks/webhook.js";

export function heldSinks({ holdHealthy = true } = {}) {
  const sent: { sink: string; body: string }[] = [];
  /** Each request as it starts, before any hold: which sinks are sending. */
  const asked: string[] = [];
  let releaseSlow!: () => void;
  const slowHeld = new Promise<void>((resolve) => (releaseSlow = resolve));
  let releaseHealthy!: () => void;
  const healthyHeld = new Promise<void>((resolve) => (releaseHealthy = resolve));
  const fetch: typeof globalThis.fetch = async (url, init) => {
    const target = typeof url === "string" ? url : url instanceof URL ? url.href : url.url;
    const sink = target.includes("slow") ? "slack" : "webhook";
    asked.push(sink);
    if (sink === "slack") await slowHeld;
    else if (holdHealthy) await healthyHeld;
    sent.push({ sink, body: typeof init?.body === "string" ? init.body : "" });
    return new Response("ok", { status: 200 });
  };
  const webhook = createWebhookSink({ url: "https://alerts.example.test/hook", secret: "whsec_held" });
  const slow = createWebhookSink({ url: "https://alerts.example.test/slow", secret: "whsec_slow" });
  const sinks = [webhook, { ...slow, name: "slack" as SinkName, idempotent: true }];
  return { fetch, sinks, sent, asked, releaseSlow, releaseHealthy };
}
