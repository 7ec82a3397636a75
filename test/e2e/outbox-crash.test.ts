/**
 * A process killed (SIGKILL) while it raises incidents or sends their alerts,
 * on the directory store, and a second process that takes over: every
 * notification an incident record holds reaches every sink, each delivery at
 * least once (a sink may see one that was in flight at the kill twice: the
 * webhook's delivery id lets it drop it), and nothing is left pending or
 * listed. The records the killed process created were claimed by it
 * (`lib/incidents/creation-claims.ts`): the second one sends them once that
 * claim lapses, and a per-key lock file it left is broken once the killed
 * process is found gone (`lib/state/lock-holder.ts`), long before the stale
 * period (30 s, the default, here too). Runs the built modules (dist/lib,
 * which `npm test` builds first) in real processes, so a kill can land between
 * any two writes.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryIdOf } from "../../lib/incidents/delivery-record.js";
import type { IncidentRecord } from "../../lib/incidents/incident-record.js";
import { FileStateStore } from "../../lib/state/file-store.js";
import { runProcess } from "../helpers/run-process.js";
import { SinkServer } from "../lib/incidents/sink-server.js";
import { tempDirs } from "../helpers/temp-dirs.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const LEASE_MS = 1_500;
const SINKS = ["webhook", "pagerduty"] as const;
const tempDir = tempDirs("outbox-crash-");

/** Raises `count` incidents, printing each, then sends their alerts; or ("recover") drains until nothing is left. */
const CHILD = `
const [root, dir, sinkUrl, mode, count, leaseMs] = process.argv.slice(2);
const load = (m) => import(root + "/dist/lib/" + m);
const { FileStateStore } = await load("state/file-store.js");
const { Outbox } = await load("incidents/outbox.js");
const { IncidentManager } = await load("incidents/incident-manager.js");
const { createWebhookSink } = await load("incidents/sinks/webhook.js");
const { systemClock } = await load("clock.js");
const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
// The default stale period (30 s): a lock file the killed process held must go sooner, as its holder is gone.
const store = new FileStateStore(dir);
const sinks = ["webhook", "pagerduty"].map((name) => ({
  ...createWebhookSink({ url: sinkUrl + "/" + name, secret: "whsec_crash" }),
  name,
}));
const outbox = new Outbox({ store, clock: systemClock, logger, sinks, options: { leaseMs: Number(leaseMs) } });
const incidents = new IncidentManager({ store, clock: systemClock, logger, repeatHours: 24, outbox });
const signal = (i) => ({
  key: "grant.invalid:g" + i,
  kind: "grant.invalid",
  severity: "critical",
  summary: "Nylas grant g" + i + " is invalid",
  details: { grant_id: "g" + i },
  remediation: ["Ask the user to sign in again."],
  links: [],
});
const left = async () => {
  let pending = 0, listed = 0;
  for await (const d of store.list("deliveries")) if (d.value.state === "pending") pending++;
  for await (const e of store.list("outbox")) if (!e.key.startsWith("unsent~")) listed++;
  return { pending, listed };
};
if (mode === "raise") {
  for (let i = 0; i < Number(count); i++) {
    await incidents.raise(signal(i));
    console.log("raised " + i);
  }
  await incidents.deliver({ deadlineMs: 60_000 });
  console.log("done");
} else {
  const until = Date.now() + 12_000;
  for (;;) {
    await incidents.deliver({ deadlineMs: 10_000 });
    const now = await left();
    if (now.pending === 0 && now.listed === 0) {
      console.log(JSON.stringify(now));
      break;
    }
    if (Date.now() > until) {
      const stuck = [];
      for await (const d of store.list("deliveries")) if (d.value.state === "pending") stuck.push({ ...d.value, notification: d.value.notification.id });
      const entries = [];
      for await (const e of store.list("outbox")) entries.push(e);
      console.log(JSON.stringify({ ...now, stuck, entries }));
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
`;

/**
 * The sinks, with deliveries counted by path and id (X-Watchdog-Delivery). PagerDuty answers
 * slower than the webhook, so at a kill many notifications have one sink's record settled and the
 * other's still pending: their listing must outlive the first.
 */
async function sinkServer() {
  const server = await new SinkServer().start();
  server.behave("/webhook", { delayMs: 5 });
  server.behave("/pagerduty", { delayMs: 40 });
  const received = () => {
    const byId = new Map<string, number>();
    for (const r of server.requests) {
      const id = `${r.path}:${String(r.headers["x-watchdog-delivery"])}`;
      byId.set(id, (byId.get(id) ?? 0) + 1);
    }
    return byId;
  };
  const count = (path: string) => server.requests.filter((r) => r.path === path).length;
  return { url: server.url(""), received, count, close: () => server.close() };
}

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

/** Starts the raising process and SIGKILLs it once `when` holds (polled), or fails if it ends first. */
async function raiseAndKill(args: string[], when: (stdout: string) => boolean): Promise<string> {
  const child = spawn(process.execPath, [CHILD_FILE!, ROOT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const giveUpAt = Date.now() + 10_000;
  while (!when(stdout)) {
    if (child.exitCode !== null) {
      throw new Error(`the raising process ended before the kill: ${stdout}${stderr}`);
    }
    if (Date.now() > giveUpAt) {
      child.kill("SIGKILL");
      throw new Error(`the kill's moment never came: ${stdout.slice(-300)}${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  child.kill("SIGKILL");
  await exited;
  return stdout;
}

let CHILD_FILE: string | undefined;

async function scenario(kill: (sink: Awaited<ReturnType<typeof sinkServer>>) => (stdout: string) => boolean) {
  CHILD_FILE ??= path.join(await tempDir(), "child.mjs");
  await writeFile(CHILD_FILE, CHILD);
  const dir = await tempDir();
  const sink = await sinkServer();
  closers.push(sink.close);
  const raised = await raiseAndKill([dir, sink.url, "raise", "40", String(LEASE_MS)], kill(sink));
  const recovered = await runProcess(
    process.execPath,
    [CHILD_FILE, ROOT, dir, sink.url, "recover", "0", String(LEASE_MS)],
    {
      env: {},
    },
  );
  expect(recovered.stderr).toBe("");
  expect(JSON.parse(recovered.stdout.trim())).toEqual({ pending: 0, listed: 0 });

  // Every notification an incident holds, to every sink, at least once.
  const records: IncidentRecord[] = [];
  for await (const item of new FileStateStore(dir).list<IncidentRecord>("incidents"))
    records.push(item.value);
  const completed = raised.split("\n").filter((line) => line.startsWith("raised ")).length;
  const received = sink.received();
  expect(records.length).toBeGreaterThanOrEqual(completed);
  for (const record of records) {
    expect(record.unsent).toEqual([]);
    for (const name of SINKS) {
      const id = deliveryIdOf(`${record.incident.key}@${record.seq}`, name);
      expect(received.get(`/${name}:${id}`) ?? 0, `${record.incident.key} → ${name}`).toBeGreaterThanOrEqual(
        1,
      );
    }
  }
  return { records, received, completed };
}

describe("outbox: a process killed mid-work, and the one after it", () => {
  it("killed while sending: the next process sends what was left once the claims lapse", async () => {
    const { records, received } = await scenario((s) => () => s.count("/webhook") >= 25);
    expect(records).toHaveLength(40);
    // Each delivery once, but for those in flight at the kill: at most one per runner (the webhook
    // sink runs 4 at a time, two such sinks here), and never more than twice.
    expect(received.size).toBe(80);
    expect([...received.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(8);
    expect(Math.max(...received.values())).toBeLessThanOrEqual(2);
  });

  it("killed while raising: every incident it recorded is alerted, including one cut mid-raise", async () => {
    const { records, completed } = await scenario(() => (stdout) => stdout.includes("raised 9\n"));
    expect(completed).toBeLessThan(40);
    expect(records.length).toBeGreaterThanOrEqual(10);
  });
});
