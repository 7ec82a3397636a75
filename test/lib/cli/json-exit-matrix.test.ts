/**
 * The `--json` contract (issue 12): every command that takes --json prints exactly one complete JSON
 * document on every exit path — 0, 1, 2 and 3, errors thrown part-way included — with a versioned
 * `schema`, the `exitCode` the process ends with, and `problems`. Each case builds its exit code for
 * real: the simulator's Entra, Graph and Nylas, bad settings, a refused credential, a network fault.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";
import { schemaOf } from "../../../lib/cli/failure.js";
import { runWatchdog, type CliResult } from "../../helpers/cli.js";
import { startDoctorWorld, type CliRun, type DoctorWorld } from "../doctor/harness.js";

const DAY_MS = 86_400_000;
const WRONG_SECRET_ID = "4f1f6a0e-3c2b-4d7e-9a1b-2c3d4e5f6a7b";

interface Doc {
  schema: string;
  exitCode: number;
  problems: { code: string; message: string; fix: string }[];
  [field: string]: unknown;
}

/** Exactly one JSON document on stdout, and the contract's three fields in it. */
function oneDocument(command: string, result: CliResult): Doc {
  const text = result.stdout.trim();
  // JSON.parse rejects a second document after the first, and a document cut short.
  const doc = JSON.parse(text) as Doc;
  expect(typeof doc, result.stdout).toBe("object");
  expect(doc.schema).toBe(schemaOf(command));
  expect(doc.schema).toMatch(/^secret-watchdog\.[a-z]+\/v\d+$/);
  expect(doc.exitCode).toBe(result.code);
  expect(Array.isArray(doc.problems)).toBe(true);
  for (const p of doc.problems) {
    expect(typeof p.code).toBe("string");
    expect(p.message.length).toBeGreaterThan(0);
    expect(p.fix.length).toBeGreaterThan(0);
  }
  // A document saying "all is well" has nothing in problems; any other says why.
  expect(doc.problems.length === 0).toBe(result.code === 0);
  return doc;
}

let sim: Simulator;
let stateDir: string;
let watchedAppId: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: { connectorSecretDaysLeft: 100 } });
  stateDir = mkdtempSync(join(tmpdir(), "json-matrix-"));
  const watched = sim.tenant.addApp({ displayName: "Payroll sync" });
  sim.tenant.addSecret(watched.id, { displayName: "gone", endDateTime: new Date(Date.now() - 2 * DAY_MS) });
  watchedAppId = watched.appId;
});
afterEach(() => {
  sim.faults.clear();
});
afterAll(async () => {
  await sim.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => sim.env({ WATCHDOG_STATE_DIR: stateDir, ...extra });
/** No NYLAS_API_KEY and a bad number: a ConfigError before anything is read. */
function badSettings(): Record<string, string> {
  const e = env({ ROTATE_BEFORE_DAYS: "abc" }) as Record<string, string | undefined>;
  delete e.NYLAS_API_KEY;
  return e as Record<string, string>;
}

async function run(command: string, args: string[], settings: Record<string, string>) {
  const result = await runWatchdog([command, "--json", ...args], settings);
  return { result, doc: oneDocument(command, result) };
}

describe.each(["scan", "run", "grants", "sweep", "health", "doctor"])("%s --json on exit 2", (command) => {
  it("bad settings: one document naming each setting with its fix", async () => {
    const { result, doc } = await run(command, [], badSettings());
    expect(result.code).toBe(2);
    expect(doc.problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^NYLAS_API_KEY: /),
        expect.stringMatching(/^ROTATE_BEFORE_DAYS: /),
      ]),
    );
    expect(result.stderr).toMatch(/Nothing was done/);
  });

  it("an unknown option: one document, exit 2", async () => {
    const { result, doc } = await run(command, ["--bogus"], env());
    expect(result.code).toBe(2);
    expect(doc.problems[0]!.code).toBe("usage");
  });
});

describe("scan --json", () => {
  it("0: nothing in use expires soon", async () => {
    const { result, doc } = await run("scan", [], env());
    expect(result.code).toBe(0);
    expect(doc.complete).toBe(true);
  });

  it("1: a watched secret has expired", async () => {
    const { result, doc } = await run("scan", [], env({ WATCH_APP_IDS: watchedAppId }));
    expect(result.code).toBe(1);
    expect(doc.summary).toMatchObject({ expired: 1, expiredUnused: 0 });
  });

  it("2: the watchdog's own credential refused, said as the watchdog's, not the connector's", async () => {
    const { result, doc } = await run("scan", [], env({ AZURE_CLIENT_SECRET: WRONG_SECRET_ID }));
    expect(result.code).toBe(2);
    expect(doc.problems[0]).toMatchObject({ code: "credential.invalid-secret" });
    expect(doc.problems[0]!.message).toMatch(/this is the watchdog's own credential, not the connector's/);
    expect(doc.problems[0]!.fix).toMatch(/AZURE_CLIENT_SECRET/);
    expect(doc.complete).toBe(false);
  });

  it("3: Nylas refuses the API key", async () => {
    const { result, doc } = await run("scan", [], env({ NYLAS_API_KEY: "nyk_wrong_key_0000000000" }));
    expect(result.code).toBe(3);
    expect(doc.problems[0]!.code).toBe("service.nylas");
  });

  it("3 part-way: the connector's secrets already read stay in the document", async () => {
    sim.faults.add({
      service: "graph",
      path: /\$batch$/,
      times: Infinity,
      response: { status: 400, body: { error: { code: "BadRequest", message: "no" } } },
    });
    const { result, doc } = await run("scan", [], env({ WATCH_APP_IDS: watchedAppId }));
    expect(result.code).toBe(3);
    expect(doc.complete).toBe(false);
    expect((doc.credentials as { source: string }[]).map((c) => c.source)).toContain("connector");
    expect(doc.problems.at(-1)!.code).toBe("service.graph");
  });
});

describe("run --json", () => {
  it("0: nothing due, nothing expiring", async () => {
    const { result } = await run("run", [], env());
    expect(result.code).toBe(0);
  });

  it("1: a watched secret something depends on has expired", async () => {
    const { result, doc } = await run("run", [], env({ WATCH_APP_IDS: watchedAppId }));
    expect(result.code).toBe(1);
    expect(doc.problems.map((p) => p.code)).toContain("secret.attention");
  });

  it("2: the watchdog's own credential refused", async () => {
    const { result, doc } = await run("run", [], env({ AZURE_CLIENT_SECRET: WRONG_SECRET_ID }));
    expect(result.code).toBe(2);
    expect(doc.problems[0]!.code).toBe("credential.invalid-secret");
  });

  it("3: Nylas refuses the API key", async () => {
    const { result, doc } = await run("run", [], env({ NYLAS_API_KEY: "nyk_wrong_key_0000000000" }));
    expect(result.code).toBe(3);
    expect(doc.problems[0]!.code).toBe("service.nylas");
  });
});

describe("grants --json", () => {
  it("0: no grant needs its user", async () => {
    const { result, doc } = await run("grants", [], env());
    expect(result.code).toBe(0);
    expect(doc).toMatchObject({ count: 0, complete: true });
  });

  it("1: an invalid grant", async () => {
    const grant = sim.tenant.nylas.grants[0]!;
    grant.grant_status = "invalid";
    sim.tenant.nylas.touch();
    try {
      const { result, doc } = await run("grants", [], env());
      expect(result.code).toBe(1);
      expect(doc.problems.map((p) => p.code)).toEqual(["grants.reauth"]);
    } finally {
      grant.grant_status = "valid";
      sim.tenant.nylas.touch();
    }
  });

  it("3 part-way: Nylas refuses after the document began", async () => {
    const { result, doc } = await run("grants", [], env({ NYLAS_API_KEY: "nyk_wrong_key_0000000000" }));
    expect(result.code).toBe(3);
    expect(doc).toMatchObject({ count: 0, complete: false });
    expect(doc.problems[0]!.code).toBe("service.nylas");
  });
});

describe("sweep --json", () => {
  it("0: the pass completed", async () => {
    const { result } = await run("sweep", [], env());
    expect(result.code).toBe(0);
  });

  it("3: Nylas refuses the API key", async () => {
    const { result } = await run("sweep", [], env({ NYLAS_API_KEY: "nyk_wrong_key_0000000000" }));
    expect(result.code).toBe(3);
  });
});

describe("health --json", () => {
  // Exit 1 (degraded) needs a timer's last pass older than twice its interval: a clock this
  // wall-clock world cannot move; lib/health's own tests build it.
  it("0 from the run records, and 3 when the state store cannot be read", async () => {
    const { result } = await run("health", [], env());
    expect(result.code).toBe(0);

    // A state "directory" that is a file: the store cannot be read at all.
    const file = join(stateDir, "not-a-dir");
    writeFileSync(file, "x");
    const broken = await run("health", [], env({ WATCHDOG_STATE_DIR: join(file, "state") }));
    expect(broken.result.code).toBe(3);
  });
});

describe("doctor --json", () => {
  let w: DoctorWorld;
  beforeAll(async () => {
    w = await startDoctorWorld();
  });
  afterEach(() => {
    w.sim.faults.clear();
  });
  afterAll(async () => {
    await w.close();
  });
  const doctor = async (args: string[], options: Parameters<DoctorWorld["cli"]>[1] = {}) => {
    const r: CliRun = await w.cli(["--json", ...args], options);
    return oneDocument("doctor", { code: r.code, stdout: r.out, stderr: r.err });
  };

  it("0: every check passes", async () => {
    expect((await doctor([])).exitCode).toBe(0);
  });

  it("1: a check fails, and problems names it", async () => {
    const connector = w.sim.tenant.nylas.connector!;
    const scope = [...connector.scope];
    connector.scope = scope.filter((s) => s !== "offline_access");
    try {
      const doc = await doctor([]);
      expect(doc.exitCode).toBe(1);
      expect(doc.problems.map((p) => p.code)).toContain("check.scopes.required");
    } finally {
      connector.scope = scope;
    }
  });

  it("2: the watchdog's own credential refused", async () => {
    const doc = await doctor([], { env: { AZURE_CLIENT_SECRET: WRONG_SECRET_ID } });
    expect(doc.exitCode).toBe(2);
    expect(doc.problems.map((p) => p.code)).toContain("credential.refused");
  });

  it("3: Nylas cannot be reached", async () => {
    w.sim.faults.add({ service: "nylas", path: /.*/, times: Infinity, response: { reset: true } });
    expect((await doctor([])).exitCode).toBe(3);
  });

  it("--explain: 0 recognised, 1 not; --secret: 1 refused", async () => {
    expect((await doctor(["--explain", "AADSTS7000222"])).exitCode).toBe(0);
    expect((await doctor(["--explain", "disk full"])).problems[0]!.code).toBe("explain.not-recognised");
    const refused = await doctor(["--secret"], { stdin: "not-the-secret-value-0123456789abcdefXYZ~" });
    expect(refused.exitCode).toBe(1);
  });

  it("2: bad usage, before anything runs", async () => {
    expect((await doctor(["--explain", "x", "--secret"])).exitCode).toBe(2);
  });
});
