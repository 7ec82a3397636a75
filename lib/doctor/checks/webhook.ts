import type { NylasWebhook } from "../../clients/nylas.js";
import { pass, problem, type CheckOutcome } from "../check.js";
import type { DoctorContext } from "../context.js";
import { sources } from "../sources.js";

/** The triggers incidents depend on; grant.created is welcome but optional. */
export const REQUIRED_TRIGGERS = ["grant.expired", "grant.updated", "grant.deleted"] as const;

function sameUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const path = (u: URL) => u.pathname.replace(/\/+$/, "");
    return (
      x.protocol === y.protocol &&
      x.host.toLowerCase() === y.host.toLowerCase() &&
      path(x) === path(y) &&
      x.search === y.search
    );
  } catch {
    return a === b;
  }
}

const missingTriggers = (w: NylasWebhook) => REQUIRED_TRIGGERS.filter((t) => !w.triggerTypes.includes(t));

/**
 * webhook.subscription: a Nylas webhook with grant.expired/updated/deleted,
 * active (Nylas marks a destination `failing`, then `failed`, and never
 * reactivates it by itself), pointing at WEBHOOK_PUBLIC_URL.
 */
export async function checkWebhook(ctx: DoctorContext): Promise<CheckOutcome> {
  const { client, apiUri } = await ctx.needNylas();
  const webhooks = await client.listWebhooks();
  const url = ctx.config.nylas.webhookPublicUrl;
  const triggers = JSON.stringify([...REQUIRED_TRIGGERS, "grant.created"]);
  const create = (target: string) =>
    `curl -X POST ${apiUri}/v3/webhooks -H "Authorization: Bearer $NYLAS_API_KEY" -H "Content-Type: application/json" ` +
    `-d '{"trigger_types":${triggers},"webhook_url":"${target}","description":"secret-watchdog"}' — then set NYLAS_WEBHOOK_SECRET to the webhook_secret it returns (shown once).`;
  const details = {
    webhookPublicUrl: url ?? null,
    subscriptions: webhooks.map((w) => ({
      id: w.id,
      url: w.webhookUrl,
      status: w.status,
      triggerTypes: w.triggerTypes,
    })),
  };
  const withTriggers = webhooks.filter((w) => missingTriggers(w).length === 0);

  if (url === undefined) {
    return problem(
      withTriggers.length > 0 ? "warn" : "fail",
      withTriggers.length > 0
        ? `WEBHOOK_PUBLIC_URL is not set, so doctor cannot tell whether ${withTriggers.map((w) => w.webhookUrl).join(", ")} is this deployment.`
        : "WEBHOOK_PUBLIC_URL is not set and no Nylas webhook subscribes to grant.expired, grant.updated and grant.deleted: bad grants are found only by the periodic sweep.",
      [
        "Set WEBHOOK_PUBLIC_URL to this deployment's https://<function app>/api/nylas/webhook (README, 'Settings').",
        ...(withTriggers.length > 0 ? [] : [`Create the subscription: ${create("<WEBHOOK_PUBLIC_URL>")}`]),
      ].join("\n"),
      sources("contract", "nylasWebhooks"),
      details,
    );
  }

  const mine = webhooks.filter((w) => sameUrl(w.webhookUrl, url));
  if (mine.length === 0) {
    const stale = withTriggers[0];
    return problem(
      "fail",
      `No Nylas webhook points at WEBHOOK_PUBLIC_URL ${url}${stale ? ` (subscription ${stale.id} sends grant events to ${stale.webhookUrl} instead)` : ""}: grant.expired and grant.deleted never reach the watchdog.`,
      stale
        ? `Point it here: PUT ${apiUri}/v3/webhooks/${stale.id} {"webhook_url":"${url}"} (Nylas Dashboard → Notifications), or create one: ${create(url)}`
        : `Create the subscription: ${create(url)}`,
      sources("nylasWebhooks", "contract"),
      details,
    );
  }
  const best = [...mine].sort((a, b) => rank(a) - rank(b))[0]!;
  const missing = missingTriggers(best);
  if (missing.length > 0) {
    return problem(
      "fail",
      `The webhook ${best.id} to ${url} does not subscribe to ${missing.join(", ")}.`,
      `Add them (the list is replaced as a whole): PUT ${apiUri}/v3/webhooks/${best.id} {"trigger_types":${JSON.stringify([...new Set([...best.triggerTypes, ...REQUIRED_TRIGGERS])])}} (or Nylas Dashboard → Notifications).`,
      sources("nylasWebhooks"),
      details,
    );
  }
  const secretNote = ctx.config.nylas.webhookSecret === undefined;
  if (best.status === "failed" || best.status === "failing" || best.status === "pause") {
    const failed = best.status === "failed";
    return problem(
      failed ? "fail" : "warn",
      failed
        ? `The webhook ${best.id} to ${url} is failed: Nylas stopped sending after deliveries kept failing, and never reactivates it by itself.`
        : best.status === "failing"
          ? `The webhook ${best.id} to ${url} is failing: most deliveries over the last 15 minutes failed; after 72 h more Nylas stops sending.`
          : `The webhook ${best.id} to ${url} is paused: Nylas sends nothing.`,
      [
        `Make the endpoint answer: the Function App is running, GET ${url}?challenge=x echoes x${secretNote ? ", and NYLAS_WEBHOOK_SECRET is set (without it every POST is refused)" : ", and NYLAS_WEBHOOK_SECRET is this webhook's secret"}.`,
        ...(best.compressedDelivery && best.status !== "pause"
          ? [
              "This destination has compressed_delivery: Nylas gzips each notification and signs the compressed bytes. Versions of secret-watchdog before compressed-delivery support answered those with 400, which Nylas never retries: upgrade the deployment first.",
            ]
          : []),
        `Then reactivate it: PUT ${apiUri}/v3/webhooks/${best.id} {"status":"active"} (or Nylas Dashboard → Notifications). Events sent meanwhile are not replayed: run \`watchdog sweep\` to catch up.`,
      ].join("\n"),
      sources("nylasWebhooks"),
      details,
    );
  }
  if (secretNote) {
    return problem(
      "warn",
      `The webhook ${best.id} to ${url} is active, but NYLAS_WEBHOOK_SECRET is not set: the endpoint refuses every notification.`,
      `Set NYLAS_WEBHOOK_SECRET to this webhook's secret (rotate it to see it again: POST ${apiUri}/v3/webhooks/rotate-secret/${best.id}).`,
      sources("contract"),
      details,
    );
  }
  return pass(
    `The webhook ${best.id} to ${url} is active with grant.expired, grant.updated and grant.deleted.`,
    details,
  );
}

const STATUS_RANK: Record<string, number> = { active: 0, failing: 1, pause: 2, failed: 3 };

function rank(w: NylasWebhook): number {
  return missingTriggers(w).length * 10 + (STATUS_RANK[w.status] ?? 5);
}
