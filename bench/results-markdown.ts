/** bench/RESULTS.md (`npm run bench -- --write`): the table, the machine, and how each figure is taken. */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { formatMarkdown, met, type Figure } from "./table.js";

export function machine(): Record<string, string> {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
  return {
    cpus: String(availableParallelism()),
    model: model ?? cpus()[0]?.model ?? "unknown",
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
    // Other work on the machine moves every figure: `node -e ""` is the row to check it by.
    load: loadavg()
      .map((l) => l.toFixed(1))
      .join(", "),
  };
}

/** Why a figure stands where it does: for each goal missed, and for the informational rows that need it. */
function whereTheTimeGoes(figures: readonly Figure[]): string {
  const missed = (prefix: string) => figures.some((f) => f.name.startsWith(prefix) && met(f) === false);
  const lines: string[] = [];
  lines.push(
    `- **serve** — handlers get the real \`@azure/functions\` \`HttpRequest\`, built over a request that makes undici's \`Request\` only when a handler asks for what only it has: the body as a stream, a Blob, form data, a clone (\`lib/host/lazy-request.ts\`; test/lib/host/lazy-request.test.ts compares every member with the documented construction). The webhook reads \`arrayBuffer()\`, answered from the bytes already read. Before, each request built an undici \`Request\` whose body is a web stream, with an \`AbortSignal\`: 6,948 req/s against a floor of 32,157 (0.22×, this file of 2026-11-30), most of it garbage collection. A CPU profile of serve under the same load (\`node --cpu-prof\`, 6 s, 2026-12-01): 19 % of samples in the socket's \`writev\` (the floor pays it too), 19 % in the handler (\`handleNylasWebhook\`: HMAC over the raw body, zod validation of the envelope), about 6 % in \`@azure/functions\`' \`HttpRequest\` and its \`__awaiter\` wrappers, 3 % building the lazy request, 5 % in garbage collection; the rest spread over routing, the \`InvocationContext\`, \`AsyncLocalStorage\` for the invocation's logger and the answer. Nothing left is one large cost inside \`@azure/functions\`.${missed("serve:") ? " The goal is still missed on this run: see the two rows." : ""}`,
  );
  lines.push(
    "- **scan, memory** — what grows with the tenant is garbage not yet collected, not data kept per app, with one exception not yet explained: two of three 50k runs kept about 12 MiB more after a full collection than the 10k runs (about 250 bytes per app). Measured by hand (2026-12-01, the bundle, two runs at 10k, three at 50k) with `--expose-gc` and a probe that samples `process.memoryUsage()` every 5 ms and collects at exit: the heap left after a full collection is 17.9–19.9 MiB after a 10k-app scan and 18.2–30.4 MiB after a 50k-app one, while the peak heap in use is 90–114 MiB at 10k and 119–363 MiB at 50k. Each 999-app page is parsed, classified and written out as about 0.5 MiB of JSON lines; whatever of that outlives a scavenge (a page lives across the next page's await, read ahead) is promoted, and V8 lets the old generation grow before a full collection, the more so the busier the machine. Peak RSS follows the heap V8 keeps, so its growth from 10k to 50k moves from run to run (the min/median/max rows). `--max-semi-space-size=1` did not change it.",
  );
  if (missed("scan --json")) {
    lines.push(
      "- **scan, time** — the floor parses the same pages and writes the same bytes; the scan also loads @azure/identity and the Graph SDK, gets its token through MSAL, reads the Nylas connector and its app registration, and classifies each credential. The smaller the tenant, the more those fixed costs weigh. Here the scan is bound by CPU (it shares 2 cores with the simulator), so reading the next page ahead, which hides Graph's latency in a real tenant, does not show.",
    );
  }
  if (missed("alert latency")) {
    lines.push(
      '- **alert latency** — the webhook answers only after processing the notification (a `getGrant` from Nylas, the incident written to the state store) and then delivering pending alerts within `DELIVERY_BUDGET_MS`; past `PROCESS_BUDGET_MS` (3 s) it answers 503. Under a steady 200 notifications/s the work queues behind itself in the one process: in a trial on this machine, even 20 notifications/s took 3 to 8 s per answer. A "never" is an event PagerDuty did not receive within 10 s of the last POST.',
    );
  }
  if (missed("sweep --json")) {
    lines.push("- **sweep** — per grant, the Nylas SDK's request handling and the sweep's bookkeeping.");
  }
  lines.push(
    "- **sweep, 1 % invalid** (no goal) — each invalid grant's open incident is read from the state store, one read after another: the file store here, Table storage in Azure.",
  );
  return `## Where the time goes\n\n${lines.join("\n")}\n`;
}

export function resultsMarkdown(
  figures: Figure[],
  host: Record<string, string>,
  totalSeconds: number,
): string {
  // One line per way of measuring, naming the figures it applies to.
  const notes = new Map<string, string[]>();
  for (const f of figures) notes.set(f.note ?? "", [...(notes.get(f.note ?? "") ?? []), f.name]);
  return `# Benchmark results

\`npm run bench -- --write\` wrote this file. The table is the one to copy into the README.

Machine: ${host.cpus} × ${host.model}, ${host.memory} RAM, Node ${host.node}, ${host.date}. Whole run: ${Math.round(totalSeconds)} s. Load average (1, 5, 15 min) at its end: ${host.load ?? "not recorded"}. The machine is shared: Node's own start-up (\`node -e ""\`, the floor of the \`--help\` row) shows how busy it was.

${formatMarkdown(figures)}

## How each figure is taken

${[...notes].map(([note, names]) => `- ${names.map((n) => `**${n}**`).join(", ")}: ${note}`).join("\n")}

The simulator (\`lib/sim\`) runs in the bench's own process and answers over HTTPS; every measured
side runs in a child process of its own, so each peak RSS is that process's alone. A floor is the
least code doing the same I/O against the same endpoints, so it includes the simulator's time too.
Each figure is a median. On an idle machine ratios move by up to ±15 % from run to run; with other
sessions busy on the 2 shared cores they move far more (the serve ratio read 0.24×, 0.47× and 0.70×
in three runs on 2026-12-01), so compare a figure with its floor from the same run only.

- **serve** is loaded with signed notifications of a type the watchdog does not handle, each with a
  fresh id. Each one takes the whole path to its answer: body read, HMAC-SHA256 over the raw bytes,
  constant-time compare, JSON parse, envelope validation, 200 \`ignored\`. Nothing is skipped that a
  real notification goes through before the state store. The re-delivery row adds that store (a
  create that finds the record, then a read): on a laptop the file store with an fsync, in Azure a
  Table storage round trip.
- **Whole process** rows (\`watchdog --help\`, scan) run the CLI as a user does: \`node dist/cli/watchdog.js\`,
  the esbuild bundle (\`scripts/bundle-cli.mjs\`), timed by the bench from spawn to exit, its peak RSS
  written at exit by \`bench/rss-probe.ts\` (preloaded into both sides alike).
- **Alert latency** runs \`watchdog serve\` (the bundle) with all four sinks on the simulator's receivers;
  the simulator stamps each alert as it arrives, in the bench's own process, on the same clock as the send.
- **Cold start** is the time to import what the Functions worker imports when an instance starts:
  every file the deployed \`package.json\` \`main\` matches (\`npm run bundle\`; docs/deploy.md, "Packaging").
- **Peak RSS** has no goal of its own; the goal is on its growth with the tenant's size.

${whereTheTimeGoes(figures)}
`;
}
