/** bench/RESULTS.md (`npm run bench -- --write`): the table, the machine, and how each figure is taken. */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { formatMarkdown, met, type Figure } from "./table.js";

export function machine(): Record<string, string> {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
  return {
    cpus: String(availableParallelism()),
    model: model ?? cpus()[0]?.model ?? "unknown",
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
}

/** Why a figure stands where it does: for each goal missed, and for the informational rows that need it. */
function whereTheTimeGoes(figures: readonly Figure[]): string {
  const missed = (prefix: string) => figures.some((f) => f.name.startsWith(prefix) && met(f) === false);
  const lines: string[] = [];
  if (missed("serve:")) {
    lines.push(
      '- **serve** — per request, `watchdog serve` builds the objects the Functions worker builds for each invocation: `@azure/functions`\' `HttpRequest` (an undici `Request` whose body is a web stream, with an `AbortSignal`: swapping it for a plain object, as an experiment, took the same server from about 4,700 to 12,200 req/s, so it is most of the gap, largely in garbage collection) and an `InvocationContext` with its log routing. Plain string answers are already written straight to the socket. The row "webhook handler alone" is the same handler on bare node:http: the gap between the two rows is those objects, not the verification. In Azure the worker builds the same `HttpRequest` for every invocation, so this is the price of running the real handler signature.',
    );
  }
  if (missed("scan --json")) {
    lines.push(
      "- **scan** — the floor parses the same pages and keeps a count; the scan also classifies each credential and writes it as one line of the `--json` document (75,000 lines, about 30 MB, at 50k apps; to /dev/null here). The smaller the tenant, the more the fixed costs weigh: a token through MSAL, the Nylas connector, the connector's app registration. Here the scan is bound by its own CPU (it shares 2 cores with the simulator), so reading the next page ahead and the connector beside the first page, which hide Graph's and Nylas's latency in a real tenant, do not show in this figure.",
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

Machine: ${host.cpus} × ${host.model}, ${host.memory} RAM, Node ${host.node}, ${host.date}. Whole run: ${Math.round(totalSeconds)} s.

${formatMarkdown(figures)}

## How each figure is taken

${[...notes].map(([note, names]) => `- ${names.map((n) => `**${n}**`).join(", ")}: ${note}`).join("\n")}

The simulator (\`lib/sim\`) runs in the bench's own process and answers over HTTPS; every measured
side runs in a child process of its own, so each peak RSS is that process's alone. A floor is the
least code doing the same I/O against the same endpoints, so it includes the simulator's time too.
Ratios move by up to ±15 % from run to run on this machine (2 shared cores); each figure is a median.

- **serve** is loaded with signed notifications of a type the watchdog does not handle, each with a
  fresh id. Each one takes the whole path to its answer: body read, HMAC-SHA256 over the raw bytes,
  constant-time compare, JSON parse, envelope validation, 200 \`ignored\`. Nothing is skipped that a
  real notification goes through before the state store. The re-delivery row adds that store (a
  create that finds the record, then a read): on a laptop the file store with an fsync, in Azure a
  Table storage round trip.
- **Cold start** is the time to import what the Functions worker imports when an instance starts:
  every file the deployed \`package.json\` \`main\` matches (\`npm run bundle\`; docs/deploy.md, "Packaging").
- **Peak RSS** has no goal of its own; the goal is on its growth with the tenant's size.

${whereTheTimeGoes(figures)}
`;
}
