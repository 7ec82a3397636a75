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

/** The bench process's share of the alert run's CPU, measured on 2026-12-01 (bench/figures/alert-latency.ts logs it each run). */
const ALERT_SIM_SHARE = "16–21 %";

const measuredOf = (figures: readonly Figure[], prefix: string) =>
  figures.find((f) => f.name.startsWith(prefix))?.measured;

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined ? "?" : value.toLocaleString("en-US", { maximumFractionDigits: digits });

/**
 * What the stack alone costs a scan (the floor on the stack's SDKs against the bare floor), and what
 * the product adds on top of it, with this run's rows; a profile of the difference taken by hand.
 */
function stackShare(...rows: (Figure | undefined)[]): string {
  const [sdkBase, sdk10, sdk50, overBase, over10] = rows;
  if (rows.some((f) => f?.floor == null)) return "";
  const ratio = (f: Figure | undefined) => fmt(f!.measured / f!.floor!, 2);
  const more = (f: Figure | undefined) => fmt((f!.measured - f!.floor!) * 1000);
  return (
    ` The stack alone, in the same run: a floor that makes the bare floor's requests through the stack's SDKs (bench/scan-floor-sdk.ts: the token from @azure/identity's ClientSecretCredential, the pages through the Graph SDK's client, bundled with the CLI's esbuild options) took ${ratio(sdk10)}× the bare floor at 10k apps, where the goal allows the product 1.3×; ${ratio(sdkBase)}× at the base tenant and ${ratio(sdk50)}× at 50k. So a scan written on this stack that did nothing but get its token and read the pages would use ${fmt((100 * (sdk10!.measured / sdk10!.floor! - 1)) / 0.3)} % of the goal's allowance at 10k (0.3× the floor) by itself. The product took ${ratio(over10)}× that floor at 10k (${more(over10)} ms more) and ${ratio(overBase)}× at the base tenant (${more(overBase)} ms more): what it does beyond a token and the pages, namely the connector's evidence (a Nylas request and two Graph reads, the connector's app and its sign-in report), the checks of every answer, the report and the redactor, and its own modules.` +
    " Where that difference goes, from CPU profiles of a base-tenant scan and of the SDK floor (six runs each, a quiet hour of 2026-12-02, 100 µs sampling): 237 against 186 ms of CPU. zod is 9.7 ms of the 51 (its own import 2.0, the Nylas answer schemas built at import 2.2, the settings read 2.9, answers parsed 1.0, the rest its English messages and the Graph schemas; 6.8 ms since the Nylas schemas are built on first use, (15) below), our other modules about 10, garbage collection 4.7, Node's built-in modules and the TLS and HTTP work of the extra connection and requests about 13, Nylas's SDK 2.7. Node's ES module loader took as long for the SDK floor's one file (24.8 ms) as for the 40 chunks the product loads (22.4 ms): the splitting costs the scan nothing measurable. With the SDK chunks already loaded, importing the product's own 34 chunks one after another took 17–29 ms, median 25 (12 runs, the same hour). At 10k apps the difference is mostly per app: the product used 470 ms of CPU (user and system, 8 runs each, the same hour), the SDK floor 335 and the bare floor 271. After (16) and (17) below, CPU profiles at 10k apps (6 runs each, 200 µs sampling) put the product's extra over the SDK floor (455 against 344 ms, idle left out) in classification and the report (`lib/watch/scan.ts`, 22 ms: V8's date parser reading each secret's end date 6.3, building each credential's report 5.9), the checks of each app (`lib/clients`, 19 ms, the hand-written check 5.7 of it), each credential's JSON (13 ms, `JSON.stringify`), the redactor (about 19 ms: five passes over 5.5 MB of output), zod (7 ms, mostly settings and import) and garbage collection (12 ms more than the SDK floor's); the SDK floor, for its part, spends 34 ms more in write calls, since it writes each app as it comes. Each of these is work the scan is for or a rule it keeps (every answer checked before it is trusted, no secret on stdout), and each costs about what the native operation under it costs: a date read by hand field by field was no faster than V8's parser (15,000 dates, 7.2–8.0 against 4.5–7.5 ms, 2026-12-02, not kept), and the redactor's passes run at about 0.5 ns a byte whichever way their patterns start."
  );
}

/** Where a scan's time goes past the floor, with this run's figures. */
function scanTime(figures: readonly Figure[]): string {
  const row = (prefix: string) => figures.find((f) => f.name.startsWith(prefix));
  const scan = row("scan --json, 10k apps: whole process");
  const base = figures.find(
    (f) => f.name.startsWith("scan --json, the base tenant") && f.name.endsWith("whole process"),
  );
  const sdkBase = row("scan floor on the stack's SDKs, the base tenant");
  const sdk10 = row("scan floor on the stack's SDKs, 10k apps");
  const sdk50 = row("scan floor on the stack's SDKs, 50k apps");
  const overBase = figures.find(
    (f) => f.name.startsWith("scan --json, the base tenant") && f.name.endsWith("the stack's SDKs"),
  );
  const over10 = row("scan --json, 10k apps: against the floor on the stack's SDKs");
  const add10 = row("scan --json: what 10k apps add");
  const add50 = row("scan --json: what 50k apps add");
  const sdk = measuredOf(figures, "scan: importing the SDKs");
  const ms = (seconds: number) => fmt(seconds * 1000);
  const ratio = (f: Figure | undefined) => (f?.floor == null ? "?" : fmt(f.measured / f.floor, 2));
  const thisRun =
    scan?.floor == null || base?.floor == null || sdk === undefined
      ? ""
      : `${stackShare(sdkBase, sdk10, sdk50, overBase, over10)} In this run, at 10k apps the scan took ${ms(scan.measured - scan.floor)} ms more than the floor's ${ms(scan.floor)} ms, where the goal allows ${ms(0.3 * scan.floor)} ms. The base tenant (the connector's app and the watchdog's own) shows what every scan pays whatever the tenant's size: ${ms(base.measured)} ms against the floor's ${ms(base.floor)} ms, ${ms(base.measured - base.floor)} ms more, ${fmt((100 * (base.measured - base.floor)) / (0.3 * scan.floor))} % of that allowance before the first bench app is read. Importing the SDKs the stack fixes (@azure/identity with MSAL for the token, the Graph SDK for the pages, Nylas's SDK for the connector's evidence: the row "scan: importing the SDKs it uses", beyond Node's undici, which the floor's \`fetch\` loads too) is ${fmt(sdk)} ms of it. The rest, from timestamps taken in the process (six runs, 2026-12-01): the entry runs at about 84 ms from process start (bare Node's own start is most of it); the scan's modules and what they import statically (about 25 ES modules, 190 KB: our code, zod, croner) take about 35 ms, of which Node's ES module loader is a fixed part per module (0.35 ms a module, measured with 40 small modules against one); the settings validate in 3.5 ms (since 2026-12-02 each setting is a plain function around its zod check, and importing their chunk takes 2.6 ms, not 8.5); importing @azure/identity takes about 67 ms, which includes Node's undici (loaded there by \`node:http\`'s ES module face; the floor's \`fetch\` loads it too); the token request leaves 2 ms later. Under strace the product's first connection opens about 105 ms after the floor's, and its last about as long before exit as the floor's. Then a round trip the floor does not make before its token (MSAL reads the authority's OpenID metadata first; @azure/msal-common carries that metadata for the public and national clouds' hosts, login.microsoftonline.com among them, so a deployed scan does not make it, and @azure/identity offers no way to pass it for the simulator's host: a bundle patched to pass it ran a 10k scan about 7 ms faster, 11 alternating runs, 2026-12-02), and the connector's evidence (a Nylas request and two Graph reads, the connector's app and its sign-in report), which now overlaps the first page. What the apps themselves add is ${ratio(add10)}× what they add to the floor at 10k and ${ratio(add50)}× at 50k (the rows "what … apps add"). At 50k apps the fixed cost is spread over five times the work, which is why the larger tenant comes closer to its floor.`;
  return (
    "- **scan, time** — changed on 2026-12-01 and 2026-12-02, each measured on the bundle: (1) a hand-written check of the common application shape ahead of zod, which still decides everything else and words every error (`lib/clients/quick-application.ts`; test/lib/clients/quick-application.test.ts compares the two on every single change and 5,000 random pairs of changes to an answer): validation went from 219 ms of a 50k scan's profile to 59 ms, and the 50k ratio from 1.43× to 1.32×; (2) the settings' schemas moved from classic `zod` to `zod/mini`, and the bundles keep only zod's English messages (an esbuild plugin, scripts/esbuild-options.mjs): the zod code a scan loads went from 585 KB to 39 KB, and importing the settings' chunk from about 88 ms to 35 ms; (3) the bundles leave out mime-types, which Nylas's SDK imports for an attachment helper nothing here calls (another plugin there): importing Nylas's chunk went from 51 ms to 23 ms; (4) the CLI keeps Node's compile cache (`bin/watchdog.ts`): the product's CPU over the floor's at 10k went from 320 to 281 ms (median of 9); (5) the redactor's named-field and query shapes start where V8 can skip ahead (`lib/redaction.ts`, same text out: test/lib/redaction.test.ts): 13.1 to 8.1 ms per 5.5 MB of scan output; (6) MSAL's `jsonwebtoken` (for certificate assertions only) and the Azure pipeline's proxy agents (only when a proxy is set) run on first use, not at import (plugins in scripts/esbuild-options.mjs; test/infra/cli-bundle.test.ts signs an assertion and builds both agents through such a bundle): importing @azure/identity's chunk went from 47.8 to 35.0 ms; (7) the Graph SDK comes from its ES build, which esbuild trims: the Graph chunk from 109 to 54 KB, the row \"scan: importing the SDKs it uses\" from 55–61 to 44–46 ms; (8) each setting is a plain function around its zod check, where each was a zod pipe inside one zod object (`lib/config/fields.ts`): importing the settings' chunk went from 8.5 to 2.6 ms, a 10k scan 18–29 ms faster in alternating runs; (9) an application that holds only the selected properties is built as one object literal, not through a rest and a spread (`quick-application.ts`): 18–50 ms at 10k, alike; (10) schedules are read in UTC through croner's `utcOffset: 0`, not the time zone \"UTC\", whose first use loads ICU's time-zone data (`lib/utc-schedule.ts`): settings with both schedules, as the Function App has them at cold start, validate in 9 ms instead of 37; (11) a page of /applications is read app by app as the scan reaches it, not as 999 checked copies first (`lib/clients/graph-pages.ts`): a 10k scan's scavenges went from 63–83 to 46–68 ms under `--trace-gc`, the whole process 17–28 ms faster in alternating runs; (12) the scan lets the event loop turn every 32 apps (`lib/watch/scan.ts`): the page read ahead was asked for as a page was handed over, but its request waits for the event loop, so it left only once that page had been written (30–50 ms later, under `undici:client:sendHeaders`); now it leaves within milliseconds, Graph builds it while the scan writes the page before, and a 10k scan ran 16–33 ms faster in alternating runs (test/lib/watch/scan-overlap.test.ts fails without the turns). One measured and not kept: loading croner only when a schedule is given (2.6 ms on its own) left the settings' chunk as slow to import, since its code is still parsed. Measured again on 2026-12-02 (the bundle, Node's compile cache warm, fresh processes): with the three SDK chunks and Node's undici already loaded, importing the rest of what a base-tenant scan loads (our modules, zod, croner and their shared chunks, 36 files) took 41–64 ms, median 45 of 10 runs; imported one chunk at a time, the settings' chunk and its imports took 13–17 ms, zod's core alone 5–9 ms of it (zod is also imported at load by the Graph and Nylas answer schemas), croner 1.4–1.8, the redactor 1.3–1.7; the deps chunk 6 ms, the scan's own 3.6. The whole CLI as one file, without code splitting, ran a base-tenant scan in 375 against 338 ms (15 alternating runs): loading every command's code costs more than the modules it saves." +
    thisRun +
    " Past the fixed cost, a 50k scan's profile is JSON parsing of the pages and garbage collection (the floor pays both, the scan more of the collection: its objects per app), classification and the report (`reportsForApp`), the JSON of each credential, and the redactor every line of output passes (kept: it is what keeps a secret off stdout). Both processes used to wait 80–120 ms at exit, after their last socket had closed, for V8 to finish optimizing undici's WebAssembly HTTP parser in the background (Node's own `fetch`, which the floor uses too; V8 starts that compile once undici has parsed a second response, and at 10k and 50k apps it finished while pages were still being read). Since 2026-12-02 (13) the CLI raises V8's WebAssembly tiering budget for every command but `serve` (`lib/cli/v8-tiering.ts`; test/e2e/cli-scan.test.ts traces a scan's wasm compiles and fails if one is optimized), so the parser stays on V8's baseline tier and nothing is left to wait for: a scan of the base tenant went from 426–460 to 332–347 ms (medians of 16–20 alternating runs), a 10k scan from 707 to 688 ms (12 a side). The floor applies the same setting the same way, so its column gains what the scan gains. It is set after Node's undici has loaded: an earlier attempt (`--liftoff-only`, 2026-12-01) set a flag first, and a changed flag makes V8 reject Node's cache of its own compiled modules, so undici took about 25 ms longer to load (46 against 70 ms, measured 2026-12-02). (14) The redactor skips its query-parameter pass on text without an \"=\", which every match of it contains (`lib/redaction.ts`): redacting a 10k scan's 5.5 MB of JSON took 11.3 instead of 15.1 ms (2026-12-02). (15) The Nylas answer schemas are built on first use, not at import (`lib/clients/nylas-schemas.ts`): a scan uses only the connector's, and zod's share of a base-tenant scan's CPU went from 9.7 to 6.8 ms (CPU profiles, 6 and 8 runs, 2026-12-02). (16) A page's envelope (its `value` a list, its next link absent or a string) is checked by hand ahead of zod, which still decides and words anything else (`lib/clients/graph-schemas.ts`, test/lib/clients/parse-page.test.ts): zod's array of unknowns visited and copied every item, and zod's share of a 10k scan's CPU fell from 10.2 to 6.4 ms, garbage collection from 45.8 to 42.0 ms (4 runs each). (17) Graph's date form is recognised by a regex before `Date.parse` is asked (`lib/util/json-guards.ts`; test/lib/util/json-guards.test.ts requires the same answer as `Date.parse` for every month, day and edge time and 20,000 seeded strings): 30,000 checks took 1.1–2.1 instead of 5.7–6.1 ms."
  );
}

/** What bounds alert throughput on this disk, with this run's store figures. */
function storeCeiling(figures: readonly Figure[]): string {
  const writesPerS = figures.find((f) => f.name.startsWith("file store: durable writes a second"));
  const each = measuredOf(figures, "file store: durable writes per grant.expired");
  const carry = measuredOf(figures, "file store: grant.expired a second");
  if (writesPerS === undefined || each === undefined || carry === undefined) return "";
  return `The rows "file store: …" measure that bound in the same run: the store makes ${fmt(writesPerS.measured)} durable writes a second, 16 at a time (bare Node making the same records durable, without the store's shared directory fsyncs: ${fmt(writesPerS.floor ?? undefined)}), and a grant.expired costs ${fmt(each, 1)} of them, counted at the store while the product's own webhook path runs: at most ${fmt(carry)} grant.expired a second on this disk with nothing else using it, where the figure asks 200. ${carry >= 200 ? "So in this run the store's durable writes could carry the figure's rate; what stops `serve` at 200/s is CPU (above and below)." : "Each of those writes is a record the exactly-once and crash-safety promises rest on, and the store runs at about the pace of bare fsyncs, so only fewer writes a notification, or fewer fsyncs a write, would remove the gap; a store that commits many records with one fsync (a journal) would lift this bound, and the deployed Table storage has no local fsync to wait on, but neither would bring 200/s under 250 ms here (above)."}`;
}

/**
 * Whether 200/s is within this machine's reach at all: the floor's p99s in this run, and what an
 * in-memory store did once (a patched build; the product ships no such store).
 */
function alertFloor(figures: readonly Figure[]): string {
  const rows = figures.filter((f) =>
    /^alert latency, POST → \S+, (same run|slack 2 s slow): p99$/.test(f.name),
  );
  // Each row's goal held to its floor: what bare Node reached on the same cores.
  const floors = rows.flatMap((f) =>
    f.floor === null || f.goal === null
      ? []
      : [{ sink: sinkOf(f), ms: f.floor, goal: f.goal.value, met: met({ ...f, measured: f.floor }) }],
  );
  if (floors.length === 0) return "";
  const missed = floors.every((f) => f.met === false);
  return (
    `At 200/s the floor itself, bare Node with no state doing the same HTTP on the same two cores as the simulator (\`bench/alert-floor.ts\`), read p99s of ${floors.map((f) => `${fmt(f.ms)} ms (${f.sink})`).join(", ")} with Slack slow in this run` +
    (missed
      ? `: the goal of ${fmt(floors[0]!.goal)} ms is out of this machine's reach at that rate, whatever the product does. `
      : ". ") +
    "Measured once by hand (2026-12-02, a patched build, not part of the bench): `serve` over an in-memory store instead of the file store, 200/s for 10 s with Slack slow, read p99s of 6.3 s (PagerDuty), 8.5 s (Teams) and 1.8 s (webhook), and used 14.4 s of CPU in those 14 s: with no disk at all, the product's HTTP and the simulator's fill both cores at 200/s, so a faster store would bring `serve` towards the floor, not under 250 ms."
  );
}

/** The sink an alert row is about: "PagerDuty" of "alert latency…, POST → PagerDuty, …". */
const sinkOf = (f: Figure) => /POST → (\S+),/.exec(f.name)?.[1] ?? f.name;

/** How the alert rows at the sustained rate came out in this run, sink by sink. */
function sustained(figures: readonly Figure[]): string {
  const rows = figures.filter((f) => f.name.startsWith("alert latency at ") && f.goal !== null);
  if (rows.length === 0) return "";
  const verdict = (f: Figure) =>
    `${sinkOf(f)} ${Math.round(f.measured)} ms (floor: ${f.floor === null ? "?" : Math.round(f.floor)} ms)`;
  const missed = rows.filter((f) => met(f) === false);
  return `At 20/s, a rate the file store sustains, this run's p99s were ${rows.map(verdict).join(", ")}${missed.length === 0 ? ": every goal met." : `; ${missed.length === rows.length ? "none" : "not every one"} within 250 ms. A p99 at 20/s moves with whatever else the two cores run (PagerDuty's p99 with Slack slow read 95, 115, 189, 194 and 258 ms in five runs on 2026-12-01); in four of those five the slow-Slack run was at or below its all-healthy run at p50.`}`;
}

/** The scan's memory, measured by hand on 2026-12-01. */
const MEMORY_BY_HAND =
  "- **scan, memory** — nothing is held per app. Measured by hand (2026-12-01, the bundle, two runs each at 10k and 50k apps) with `--expose-gc` and a probe that runs a full collection every 200 ms during the scan: the heap left after a collection levels off at 17.4 MiB at 10k and 18.0 MiB at 50k (0.6 MiB for 40,000 more apps, about 15 bytes per app: run-to-run noise), and is 15.7–15.8 MiB once the scan is done at both sizes. A sampling heap profile of a 50k scan (`node --heap-prof`) finds 11.1 MiB live at its end, all of it code and SDK state (compiled modules 2.5 MiB, undici 1.1 MiB, Node's bindings 1.0 MiB, MSAL's endpoint metadata 0.5 MiB); no frame of the scan (page parse, validation, classification, output) holds anything. The result is not kept either: each credential is written out as it is classified, and only the `keepSoonest` (100) soonest-expiring are kept. What grows with the tenant is garbage not yet collected and memory V8 and malloc keep after it: even with a collection every 200 ms, peak RSS was 106 MiB at 10k and 124 MiB at 50k (1.17×), with the peak heap in use between collections 26–27 MiB vs 34 MiB and `external` (undici's buffers) 5.6 vs 7.5 MiB. Bare Node grows alike on the same pages and bytes (the floor column of the growth rows: 1.23–1.39× on 2026-12-01), so the 1.15× goal is below what Node itself does with its defaults.";

/** What the scan's RSS growth is made of, with this run's rows with and without the CLI's cap. */
function scanMemory(figures: readonly Figure[]): string {
  const capped = figures.find((f) => f.name.startsWith("scan: peak RSS growth") && f.goal !== null);
  const uncapped = figures.find((f) => f.name.includes("V8's default young generation"));
  const thisRun =
    capped === undefined || uncapped?.floor == null
      ? ""
      : ` In this run the scan grew at most ${fmt(capped.measured, 2)}× with the CLI's cap and ${fmt(uncapped.measured, 2)}× without it (the row "V8's default young generation"); the bare floor, which has no cap, ${fmt(uncapped.floor, 2)}×.`;
  return `${MEMORY_BY_HAND}${YOUNG_GENERATION}${thisRun}`;
}

/** Why the CLI caps V8's young generation, found on 2026-12-02. */
const YOUNG_GENERATION =
  " What grows from 10k to 50k apps is V8's young generation (found on 2026-12-02). V8 doubles it whenever the bytes that survived its scavenges since the last doubling exceed its size, a sum that never decays, up to 16 MiB a semi-space. A scan keeps about half a page of applications alive at any moment, and 0.5–0.6 MB survive each scavenge (`--trace-gc-nvp`), so the longer it runs the larger the young generation: `new_space` reached 16 MiB (8 a semi-space) about 0.4 s into a 50k scan and 32 MiB at 0.9 s, which a 10k scan never runs long enough to reach. Handing a page's applications over as text and parsing each page only when the scan reaches it, or dropping each raw application once read, changed nothing measurable (5 runs each, not kept): the survivors are the page being read, which the scan needs. So the CLI caps the young generation at 8 MiB a semi-space for every command but `serve` (`lib/cli/young-generation.ts`): Node takes `--max-semi-space-size` only at start, but V8 reads its growth factor each time it grows the young generation, so a timer sets that factor to 1 once the young generation holds two semi-spaces of 8 MiB (test/lib/cli/young-generation.test.ts). A 50k scan then peaked at 101–109 MiB instead of 121–123, 10k scans alike (98–101 MiB), in no more time (5 alternating runs each, by hand); caps of 4 and 2 MiB made the growth worse (1.20–1.29×), the page then outliving the young generation into the old one. Someone who sets `--max-semi-space-size` or `--semi-space-growth-factor` (command line or NODE_OPTIONS) keeps their own setting.";

/** Where serve's time goes, layer by layer, with this run's CPU-per-request rows. */
function serveLayers(figures: readonly Figure[], goalMissed: boolean): string {
  const cpu = (name: string) => measuredOf(figures, `CPU per request: ${name}`);
  const floor = figures.find((f) => f.name.startsWith("CPU per request: serve"))?.floor ?? undefined;
  const [handler, functions, serve] = [
    cpu("webhook handler alone"),
    cpu("webhook through the Functions types"),
    cpu("serve"),
  ];
  const diff = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a - b;
  // Two servers measured in turns on shared cores: a few µs either way is the rounds' noise.
  const routing = (us: number | undefined) =>
    us === undefined || us > 0
      ? `${fmt(us)} µs`
      : `nothing this run could tell apart (\`serve\` read ${fmt(-us)} µs under the Functions-layer server)`;
  return [
    `- **serve** — where its time goes, by layer, in this run's CPU-per-request rows (the server process's own CPU: waiting for a core while the load generator runs does not count in it, as it does in req/s, though a busy machine still slows every side): the bare floor ${fmt(floor)} µs, the webhook handler alone on node:http ${fmt(handler)} µs (HMAC over the raw body, envelope parse and validation), the same handler reached through the Functions types ${fmt(functions)} µs (\`@azure/functions\`' \`HttpRequest\` and \`InvocationContext\`, the redacting wrapper, \`AsyncLocalStorage\` for the invocation's logger: \`bench/layer-servers.ts\`), and \`serve\` ${fmt(serve)} µs. So the Functions layer adds ${fmt(diff(functions, handler))} µs to the handler, and \`serve\`'s own routing, method and key checks and answer add ${routing(diff(serve, functions))}: the distance to the goal is that layer, and its req/s row reads as \`serve\`'s does.`,
    "The layer split once more by hand (2026-12-02, patched builds of `serve` alternating in one run, 5 rounds of 3 s, medians): the handler called straight from serve's routing 67 µs; with the `HttpRequest` over the lazy request and the handler's reads through it 93 µs; with the `InvocationContext` 104; with the Function's wrapper and the redaction 107; with `AsyncLocalStorage` 119 (the handler alone on node:http: 56). `HttpRequest` and `InvocationContext` keep each private field in a `WeakMap` (TypeScript's downlevel of `#field`, three per object, in the package's own build) and `HttpRequest` parses the URL again for `query`; `AsyncLocalStorage` on Node 22 runs a hook for every promise and async resource while one is in use (Node 24's AsyncContextFrame does without). All kept: handlers get the official types, and an invocation's log lines follow it as `context.log` does on the Functions host.",
    "Earlier changes and profiles: handlers get the real `HttpRequest` built over a request that makes undici's `Request` only when a handler asks for what only it has, the body as a stream, a Blob, form data, a clone (`lib/host/lazy-request.ts`; test/lib/host/lazy-request.test.ts compares every member with the documented construction); the webhook reads `arrayBuffer()`, answered from the bytes already read. Before, each request built an undici `Request` whose body is a web stream, with an `AbortSignal`: 6,948 req/s against a floor of 32,157 (0.22×, this file of 2026-11-30), most of it garbage collection. Profiled on 2026-12-02 (all three servers of the time under `--cpu-prof` in one `--only=serve` run): the bare floor was busy 0.2–0.4 of a core at about 19,500 req/s, so its req/s is what the load generator, in the bench's process on the same two cores, can send, not what node:http can answer; `serve` was busy 0.6–0.8 of a core at 8,800 req/s, about 35 % of its samples inside the socket's `writev`: on loopback the sender's `writev` delivers the bytes and wakes the load generator, and on two busy cores the kernel then runs that process while the server waits inside the call (a wall-clock profile counts that wait; the CPU rows do not)." +
      (goalMissed ? " The goal is missed on this run." : ""),
  ].join(" ");
}

/** Why a figure stands where it does: for each goal missed, and for the informational rows that need it. */
function whereTheTimeGoes(figures: readonly Figure[]): string {
  const missed = (prefix: string) => figures.some((f) => f.name.startsWith(prefix) && met(f) === false);
  const lines: string[] = [];
  lines.push(serveLayers(figures, missed("serve:")));
  lines.push(scanMemory(figures));
  lines.push(scanTime(figures));
  lines.push(
    `- **alert latency** — ${alertFloor(figures)} ${sustained(figures)} On top of the floor's HTTP, each \`grant.expired\` is about 16 durable writes (the event, the incident and its unsent listing, one listing for the notification and its removal, and per sink a delivery record, written already claimed, and its settlement; 26 before two changes of 2026-12-02, below): \`strace -f\` counted about 300 file-system calls and 20 fsyncs per notification, each write a temp file fsynced, renamed or linked under a lock file, then its directory fsynced, which is what keeps an alert exactly-once per sink and crash-safe. Under 200/s \`serve\` used 1.2–1.3 cores (about 10 ms user and 7.6 ms system time per notification, /proc/<pid>/stat, 2026-12-01), most of it the kernel's journal work on this one disk and the trips through libuv's thread pool: a durable write is 10–20 of them (temp file opened, written, fsynced and closed, linked or renamed under a lock file, the directory fsynced), about 440 a notification before the change of 2026-12-02 below, and on this VM a trip costs some 80–90 µs of CPU (\`fs.promises\` open and close of one file: 87 µs, the same calls made synchronously: 7 µs; measured 2026-12-01), so even at 20/s \`serve\` keeps about one of the two cores busy (the log line "CPU over … of load and drain" of each run); the bench's process (simulator and load) used ${ALERT_SIM_SHARE}. ${storeCeiling(figures)} Changed on 2026-12-02: the file store draws each write's temp name, etag and lock token from \`randomUUID\` (Node's pooled entropy, about 1 µs) instead of \`randomBytes\` (OpenSSL on every call, about 7 µs here): 3,000 creates 16 at a time, five alternating pairs, took 433–501 µs of CPU a write against 494–531 before, and made 2,251–2,582 writes a second against 2,086–2,371. Changed later that day: a lock released well inside its stale period is removed without reading it back (a lock is broken only once its mtime is that old, \`lib/state/file-lock.ts\`), and a record is read with open, one read and close instead of \`readFile\` (which also asks for the size and reads once more to find the end): the file-system requests Node makes for an update on an etag went from 25 to 19, for a delete from 16 to 11, for a read from 5 to 4 (test/lib/state/file-store-pool.test.ts), and \`serve\` took 24.7–25.0 s of CPU for 1,000 grant.expired at 200/s on this disk against 28.9 s before (alternating builds, by hand; on tmpfs no difference). Changed later still that day: a delivery record is written already claimed (leased) by the process that writes it, which then sends it on that claim without writing one (the etag its creation returned proves nobody wrote the record since; \`lib/incidents/creation-claims.ts\`, test/lib/incidents/outbox-creation-claims.test.ts): a grant.expired went from 26.1 to 22.1 durable writes, and \`serve\` took 19.5–22.3 s of CPU (median 21.6) for 1,000 grant.expired at 200/s on this disk against 21.3–29.3 s (median 25.3) before (five alternating pairs, by hand). A process that stops before sending leaves its records to another driver once the lease (2 min) runs out, as one that stopped mid-send always did. Then: the outbox lists a notification once for all its sinks instead of once per record (\`lib/incidents/pending-deliveries.ts\`, test/lib/incidents/outbox-listing.test.ts), and the entry goes when every record it names is known settled (from memory in the process that wrote it, or by a reader that finds none pending): 22.1 to 16.1 writes per grant.expired, and \`serve\` took 19.5–21.1 s of CPU against 23.5–25.0 s for the build before it (three alternating pairs, by hand, a slower hour than the pairs above). Then: a temp file is opened with O_DSYNC where the platform has it (not Windows), so its one write returns once the data is durable, as after fdatasync, instead of a write and an fsync: one trip through libuv's pool fewer on every write (test/lib/state/file-store-pool.test.ts counts 18, 14 and 10 requests for an update on an etag, a plain put and a create, against 19, 15 and 11); \`serve\`'s CPU moved within the noise (17.1–18.5 s against 18.0–19.0 s in three alternating pairs, and one run of the build before at 13.1 s, when the disk was quick and the pool threads used 3.1 s of system time instead of 8–9). After these changes, a CPU profile of \`serve\` at 200/s (1,000 grant.expired, by hand, 2026-12-02) put its main thread at about 11.7 ms a notification: 3.8 ms in the file store (3.2 of it the hand-overs of file calls to libuv's pool), 2.5 ms in HTTP (the POST, the Nylas read and four sink posts, which the floor makes too), 0.8 ms garbage collection, 0.5 ms the redactor's walk over each stored value, about 0.25 ms \`AsyncLocalStorage\`'s promise hooks, the rest spread thinly; libuv's pool threads used 3–9 ms more of system time, most of it the file calls themselves, varying with the disk's pace. Then, found with that profile: the store's file calls go through Node's callback API on plain descriptors (\`lib/state/fd-calls.ts\`) instead of \`fs.promises\`, whose \`open\` makes a FileHandle (a JS object, a C++ object with a finalizer and an async resource) and whose \`close\` another request: opening, writing, closing and unlinking a small file, 16 at a time, used 30–40 µs of the main thread's CPU that way against 16–25 µs (tmpfs and this disk alike), and \`serve\` took 14.5–16.3 ms of CPU per grant.expired (median 14.9) against 13.5–18.0 ms (median 16.4) at 200/s (five alternating pairs, by hand; three pairs at 50/s: 21.4–23.7 against 22.4–25.3 ms). And a lock is a symbolic link whose target is its token, made in one request instead of a file opened, written and closed (\`lib/state/file-lock.ts\`), which also means no lock is ever left without a token by a process killed mid-write, so a lock whose process is gone is broken at once rather than after 30 s (\`lib/state/lock-holder.ts\`): the pool test now counts 3, 12, 9, 7 and 8 requests for a read, an update on an etag, a put, a delete and a create. Tried and not kept (measured the same day, same machine): 64 libuv pool threads instead of 4 (alerts later, more contention), and synchronous calls for the small file operations, keeping only fsync in the pool (no less CPU, and the blocked event loop made alerts later; tried a second time that day, it halved \`serve\`'s CPU on tmpfs, but on this disk a synchronous create, rename or unlink waits for the journal with the whole event loop: the rows at 20/s read p99s of 344–370 ms against 54–56 ms, and at 200/s answers failed with 408 and resets before the event was recorded, so it was reverted). Changed earlier on 2026-12-01, both found with this figure: (1) a sink asked again during a drain goes on with the records this process enqueued since (\`lib/incidents/fresh-deliveries.ts\`) instead of re-reading the outbox, whose listing includes a slow sink's whole backlog (outbox-fresh.test.ts: 91 outbox reads before, 0 after; at 40/s PagerDuty's p99 with Slack slow went from 2.05× to 1.08× its all-healthy run); (2) a sink that has sent everything stays in the drain and waits for the next ask while a slow sink still sends (\`lib/incidents/drain-round.ts\`): before, it left, and at 20/s with Slack 2 s slow no PagerDuty, Teams or webhook alert arrived within 10 s; after, their p99 is about 70 ms (the rows "at 20/s"). Real sinks would not take 200 alerts a second either: PagerDuty's Events API allows 120 events a minute per integration key ("Which rate limit of REST API is correct", PagerDuty Community, https://community.pagerduty.com), and Slack one incoming-webhook message a second with short bursts ("Rate Limits", https://api.slack.com/docs/rate-limits); the outbox keeps what they refuse and retries it with back-off. In Azure the state is Table storage (no local fsync; writes run concurrently). A "never" is an alert not received within 10 s of the last POST.`,
  );
  if (missed("sweep --json")) {
    lines.push(
      "- **sweep** — per page, the product does what the floor does (one GET, one JSON parse) plus the Nylas SDK's request building (`newRequest`: a URL, change-case on each query key, an undici `Request`, an AbortController and a timer: 50–90 µs a page once warm, measured by hand on 2026-12-02), and per grant the wire check, the migration tracker and the grant-state decision (about 75 ms of a 50k sweep's CPU profile, inclusive). Timed at the simulator (50k grants, each request's arrival recorded, three runs a side, 2026-12-02): once warm, the product's pages came 3.0–4.0 ms apart against the floor's 2.1–3.6; over the first quarter of the pages 7.9–9.5 against 5.5–7.5 ms, the warm-up of a fresh process (JIT, connections), which the product pays on more code. Measured and not kept: asking for the next page before checking the grants of the one in hand, so the check overlaps Nylas's work, ran 1 % faster over 9 alternating runs, within the noise. The ratio moves with the machine: 1.18–1.45× across runs of the same code since pages are read ahead.",
    );
  }
  lines.push(
    "- **sweep, time** — changed on 2026-12-01: grant pages are read ahead, as Graph's are (the next page is asked for as soon as one arrives, so Nylas produces it while the sweep goes through the one it has; test/lib/clients/clients.test.ts), and the sweep awaits per grant only where there is something to wait for (three turns of the microtask queue per grant before): on 50k grants, 709 to 562 ms against a floor of 439–470 ms (by hand, alternating runs). The figure's child now also loads the modules the command imports on demand before the clock starts, as its note says.",
  );
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
  written at exit by \`bench/rss-probe.ts\` (preloaded into both sides alike). The scan runs first on the
  base tenant (the connector's app and the watchdog's own), then at 10k and 50k apps: "what … apps add"
  is each size's median less the base tenant's, on each side, to tell the time that grows with the
  tenant from what every scan pays once.
- **Alert latency** runs \`watchdog serve\` (the bundle) with all four sinks on the simulator's receivers;
  the simulator stamps each alert as it arrives, in the bench's own process, on the same clock as the send.
- **Cold start** is the time to import what the Functions worker imports when an instance starts:
  every file the deployed \`package.json\` \`main\` matches (\`npm run bundle\`; docs/deploy.md, "Packaging").
- **Peak RSS** has no goal of its own; the goal is on its growth with the tenant's size.

${whereTheTimeGoes(figures)}
`;
}
