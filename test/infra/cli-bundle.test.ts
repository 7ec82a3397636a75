// The `watchdog` CLI ships as an esbuild bundle with code splitting (scripts/bundle-cli.mjs).
// What a command costs at start-up is what its entry reaches through static imports: these
// tests read esbuild's metafile and hold each command to what it needs. (test/e2e/cli-scan
// runs `npx watchdog scan --json` from the same bundle against the simulator.)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Output {
  entryPoint?: string;
  imports: { path: string; kind: string; external?: boolean }[];
  inputs: Record<string, unknown>;
}

let dir: string;
let outputs: Record<string, Output>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cli-bundle-"));
  const out = join(dir, "cli");
  const built = spawnSync(process.execPath, [join(ROOT, "scripts/bundle-cli.mjs"), out], {
    encoding: "utf8",
  });
  expect(built.status, built.stderr).toBe(0);
  outputs = (JSON.parse(readFileSync(`${out}-meta.json`, "utf8")) as { outputs: Record<string, Output> })
    .outputs;
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Output files esbuild made for an entry or for the target of an `import()`. */
function outputOf(entry: string): string {
  const found = Object.entries(outputs).find(([, o]) => o.entryPoint === entry);
  if (!found) throw new Error(`no output for ${entry}: is it still imported (statically or with import())?`);
  return found[0];
}

/** Every source a set of outputs loads before any further `import()`: what starting them costs. */
function staticInputs(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = entries.map(outputOf);
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const i of outputs[file]!.imports)
      if (i.kind === "import-statement" && i.external !== true) stack.push(i.path);
  }
  return new Set([...seen].flatMap((file) => Object.keys(outputs[file]!.inputs)));
}

const packages = (inputs: Set<string>) =>
  [...inputs]
    .filter((f) => f.includes("node_modules/"))
    .map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)![1]!);

/**
 * Bundles `source` with the CLI's esbuild options (no splitting) and runs it: the inputs esbuild
 * took and the lines it printed. For each package in `probes`, a module in front of it records its
 * name in `globalThis.probed` when it is first required from one of our "on first use" answers.
 */
function runBundled(
  name: string,
  source: string,
  probes: string[] = [],
): { inputs: string[]; lines: string[] } {
  const entry = join(dir, `${name}-entry.mjs`);
  const out = join(dir, `${name}-out.mjs`);
  writeFileSync(entry, source);
  for (const pkg of probes)
    writeFileSync(
      join(dir, `probe-${pkg}.cjs`),
      `(globalThis.probed ??= []).push(${JSON.stringify(pkg)});\n` +
        `module.exports = require(${JSON.stringify(join(ROOT, "node_modules", pkg))});\n`,
    );
  const script = `
    import { build } from "esbuild";
    import { CREATE_REQUIRE, SHARED_OPTIONS } from ${JSON.stringify(join(ROOT, "scripts/esbuild-options.mjs"))};
    const probes = ${JSON.stringify(probes)};
    const probe = { name: "probe", setup(b) {
      b.onResolve({ filter: /.*/ }, (args) =>
        probes.includes(args.path) && args.namespace === args.path + "-on-first-use"
          ? { path: ${JSON.stringify(dir)} + "/probe-" + args.path + ".cjs" } : undefined);
    } };
    const result = await build({ ...SHARED_OPTIONS, plugins: [probe, ...SHARED_OPTIONS.plugins],
      splitting: false, metafile: true, logLevel: "error",
      entryPoints: [${JSON.stringify(entry)}], outfile: ${JSON.stringify(out)},
      banner: { js: CREATE_REQUIRE }, absWorkingDir: ${JSON.stringify(ROOT)} });
    console.log(JSON.stringify(Object.keys(Object.values(result.metafile.outputs)[0].inputs)));
    await import(${JSON.stringify(out)});
  `;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(run.stderr).toBe("");
  const [inputs, ...lines] = run.stdout.trim().split("\n");
  return { inputs: JSON.parse(inputs!) as string[], lines };
}

describe("the CLI bundle", () => {
  it("starts `--help` on our own code alone: no SDK, no package at all", () => {
    const help = staticInputs(["bin/watchdog.ts"]);
    expect(packages(help)).toEqual([]);
    expect([...help].some((f) => f.startsWith("lib/cli/"))).toBe(true);
  });

  it("runs `scan` without Table storage, incidents or the Functions host", () => {
    const scan = staticInputs([
      "bin/watchdog.ts",
      "lib/config.ts",
      "lib/deps.ts",
      "lib/watch/scan.ts",
      "lib/watch/format-scan.ts",
    ]);
    expect([...scan].some((f) => f.startsWith("lib/watch/scan"))).toBe(true);
    expect(packages(scan)).not.toContain("@azure/data-tables");
    expect(packages(scan)).not.toContain("@azure/functions");
    expect([...scan].filter((f) => f.startsWith("lib/incidents/") || f.startsWith("lib/state/"))).toEqual([]);
  });

  it("runs `serve` without Graph or @azure/identity", () => {
    const serve = staticInputs([
      "bin/watchdog.ts",
      "lib/host/serve.ts",
      "lib/deps.ts",
      "lib/runtime.ts",
      "functions/nylas-webhook.ts",
      "functions/health.ts",
      "functions/secret-watchdog.ts",
      "functions/grant-sweep.ts",
    ]);
    expect(packages(serve)).toContain("@azure/functions");
    expect(packages(serve)).not.toContain("@azure/identity");
    expect(packages(serve)).not.toContain("@microsoft/microsoft-graph-client");
  });

  it("carries zod's English messages and none of its other locales", () => {
    const zodFiles = Object.values(outputs).flatMap((o) =>
      Object.keys(o.inputs).filter((f) => f.includes("node_modules/zod/")),
    );
    expect(zodFiles.some((f) => f.endsWith("zod/v4/locales/en.js"))).toBe(true);
    expect(zodFiles.filter((f) => /zod\/v4\/locales\/(?!en\.js)/.test(f))).toEqual([]);
  });

  it("takes the Graph SDK's ES build, which esbuild can trim, and none of its CommonJS build", () => {
    // The CommonJS index requires every module of the SDK at import; the ES build's unused ones go.
    const graph = Object.values(outputs)
      .flatMap((o) => Object.keys(o.inputs))
      .filter((f) => f.includes("node_modules/@microsoft/microsoft-graph-client/"));
    expect(graph.some((f) => f.endsWith("/lib/es/src/Client.js"))).toBe(true);
    expect(graph.filter((f) => !f.includes("/microsoft-graph-client/lib/es/"))).toEqual([]);
    expect(graph.filter((f) => /ChaosHandler\.js$|PageIterator\.js$/.test(f))).toEqual([]);
  });

  it("leaves out mime-types and mime-db, which only Nylas's unused attachment helper needs", () => {
    const all = new Set(Object.values(outputs).flatMap((o) => Object.keys(o.inputs)));
    expect(packages(all)).toContain("nylas");
    expect(packages(all)).not.toContain("mime-types");
    expect(packages(all)).not.toContain("mime-db");
  });

  it("still names an attachment's type when a bundle does reach that helper", () => {
    // The helper as a future SDK version might call it, bundled with the same options.
    const pdf = join(dir, "report.pdf");
    writeFileSync(pdf, "%PDF-1.7\n");
    const run = runBundled(
      "attachment",
      `import { createFileRequestBuilder } from ${JSON.stringify(join(ROOT, "node_modules/nylas/lib/esm/utils.js"))};\n` +
        `const file = createFileRequestBuilder(${JSON.stringify(pdf)});\n` +
        "file.content.destroy();\n" +
        "console.log(file.contentType);\n",
    );
    expect(run.inputs.some((i) => i.includes("node_modules/mime-db/"))).toBe(true);
    expect(run.lines).toEqual(["application/pdf"]);
  });

  it("signs a certificate credential's assertion, loading jsonwebtoken only then", () => {
    // MSAL's own ClientAssertion (what ClientCertificateCredential signs with), bundled with the
    // same options: as the product's bundles have it, and with a probe in front of jsonwebtoken
    // that says when it is first loaded.
    const source = [
      `import { ClientAssertion } from ${JSON.stringify(join(ROOT, "node_modules/@azure/msal-node/dist/client/ClientAssertion.mjs"))};`,
      'import { generateKeyPairSync, randomUUID, verify } from "node:crypto";',
      'console.log(`loaded at import: ${globalThis.probed?.includes("jsonwebtoken") === true}`);',
      'const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });',
      'const pem = privateKey.export({ type: "pkcs8", format: "pem" });',
      'const assertion = ClientAssertion.fromCertificate("ab".repeat(20), pem);',
      'const jwt = assertion.getJwt({ createNewGuid: () => randomUUID() }, "client-id", "https://login.example/t/oauth2/v2.0/token");',
      'console.log(`loaded after signing: ${globalThis.probed?.includes("jsonwebtoken") === true}`);',
      'const [header, payload, signature] = jwt.split(".");',
      'console.log(JSON.parse(Buffer.from(header, "base64url")).alg, JSON.parse(Buffer.from(payload, "base64url")).iss);',
      'console.log(`verifies: ${verify("RSA-SHA256", Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url"))}`);',
    ].join("\n");
    const signed = ["RS256 client-id", "verifies: true"];
    expect(runBundled("assertion", source).lines.slice(2)).toEqual(signed);
    expect(runBundled("assertion-probed", source, ["jsonwebtoken"]).lines).toEqual([
      "loaded at import: false",
      "loaded after signing: true",
      ...signed,
    ]);
  });

  it("answers each deferred import with one module that requires the real package", () => {
    // An answer's own `require` of the package must reach the package, not another answer.
    const inputs = (
      JSON.parse(readFileSync(join(dir, "cli-meta.json"), "utf8")) as {
        inputs: Record<string, { imports: { path: string }[] }>;
      }
    ).inputs;
    const answers = Object.entries(inputs).filter(([name]) => name.includes("-on-first-use:"));
    expect(answers.map(([name]) => name.split(":")[0]).sort()).toEqual([
      "http-proxy-agent-on-first-use",
      "https-proxy-agent-on-first-use",
      "jsonwebtoken-on-first-use",
      "mime-types-on-first-use",
    ]);
    for (const [, input] of answers)
      expect(input.imports.map((i) => i.path)).toEqual([expect.stringMatching(/^node_modules\//)]);
  });

  it("builds the real proxy agents when a proxy is set, and loads them only then", () => {
    // The Azure SDKs' proxy policy as @azure/identity's pipeline runs it, bundled with the same options.
    const run = runBundled(
      "proxy",
      [
        `import { proxyPolicy } from ${JSON.stringify(join(ROOT, "node_modules/@typespec/ts-http-runtime/dist/esm/policies/proxyPolicy.js"))};`,
        'import { Agent } from "node:http";',
        'const loaded = () => (globalThis.probed ?? []).join(",") || "none";',
        "console.log(`at import: ${loaded()}`);",
        'const policy = proxyPolicy({ host: "http://proxy.example", port: 3128 });',
        'for (const url of ["https://login.example/token", "http://plain.example/"]) {',
        "  const request = { url, headers: new Map() };",
        "  await policy.sendRequest(request, async (r) => r);",
        "  const { agent } = request;",
        "  console.log(`${url}: ${agent instanceof Agent} ${typeof agent.connect} ${agent.proxy.href}, loaded ${loaded()}`);",
        "}",
      ].join("\n"),
      ["https-proxy-agent", "http-proxy-agent"],
    );
    expect(run.lines).toEqual([
      "at import: none",
      "https://login.example/token: true function http://proxy.example:3128/, loaded https-proxy-agent",
      "http://plain.example/: true function http://proxy.example:3128/, loaded https-proxy-agent,http-proxy-agent",
    ]);
  });

  it("keeps Node's compile cache for the chunks a command loads, unless it is turned off", () => {
    const files = (root: string) =>
      readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    const run = (env: Record<string, string>) => {
      const tmp = mkdtempSync(join(dir, "tmp-"));
      // No settings: `scan` loads its chunks, then refuses the configuration (exit 2).
      const done = spawnSync(process.execPath, [join(dir, "cli", "watchdog.js"), "scan"], {
        env: { PATH: process.env.PATH ?? "", TMPDIR: tmp, ...env },
        encoding: "utf8",
      });
      expect(done.status, done.stderr).toBe(2);
      return files(tmp);
    };
    expect(run({})).toBeGreaterThan(0);
    expect(run({ NODE_DISABLE_COMPILE_CACHE: "1" })).toBe(0);
  });

  it("prints the help from the bundle, exit 0, with a source map beside it", () => {
    const run = spawnSync(process.execPath, [join(dir, "cli", "watchdog.js"), "--help"], {
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Usage: watchdog <command> [options]");
    expect(run.stderr).toBe("");
    expect(readFileSync(join(dir, "cli", "watchdog.js"), "utf8")).toContain(
      "//# sourceMappingURL=watchdog.js.map",
    );
  });
});
