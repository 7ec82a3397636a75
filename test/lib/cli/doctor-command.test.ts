import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { CHECK_IDS } from "../../../lib/doctor/check.js";
import type { DoctorReport } from "../../../lib/doctor/run-doctor.js";
import { doctorCommand } from "../../../lib/cli/doctor-command.js";
import { runCli } from "../../../lib/cli/main.js";
import type { CliIo } from "../../../lib/cli/io.js";
import { GRAPH_APP_ID, GRAPH_SCOPES } from "../../../lib/sim/index.js";
import { startDoctorWorld, type DoctorWorld } from "../doctor/harness.js";
import { PAGE } from "../doctor/cited-pages.js";

/** The production command with no settings at all. */
async function bare(args: string[]) {
  let out = "";
  let err = "";
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    stdin: Readable.from([]),
    stderrIsTTY: false,
    env: {},
  };
  const code = await runCli(["doctor", ...args], io, [doctorCommand]);
  return { code, out, err };
}

describe("watchdog doctor --explain (no configuration needed)", () => {
  it("recognises a pasted error: exit 0 with cause and steps", async () => {
    const run = await bare([
      "--explain",
      "error_code=45001&error_description=Provider refused to return refresh_token",
    ]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("45001 — Provider refused to return refresh_token");
    expect(run.out).toContain("Cause:");
    expect(run.out).toContain("1. Verify client credentials");
    expect(run.out).toContain(`Source: ${PAGE.forum45001}`);
  });

  it("exit 1 for text it does not know, listing what it knows", async () => {
    const run = await bare(["--explain", "disk full"]);
    expect(run.code).toBe(1);
    expect(run.out).toContain("Not recognised");
    expect(run.out).toContain("AADSTS7000215");
  });

  it("--json prints one document", async () => {
    const run = await bare(["--explain", "AADSTS7000222", "--json"]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.out);
    expect(doc).toMatchObject({ schema: "secret-watchdog.doctor/v1", mode: "explain", recognised: true });
    expect(doc.explanations[0].id).toBe("entra.7000222");
  });

  it("exit 2 for bad usage", async () => {
    expect((await bare(["--explain", "  "])).code).toBe(2);
    expect((await bare(["--explain", "x", "--secret"])).code).toBe(2);
    expect((await bare(["some", "words"])).code).toBe(2);
    expect((await bare(["--bogus"])).code).toBe(2);
  });

  it("exit 2 naming every missing setting when doctor runs without configuration", async () => {
    const run = await bare([]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("NYLAS_API_KEY");
    expect(run.err).toContain("AZURE_TENANT_ID");
  });
});

describe("watchdog doctor against the simulator", () => {
  let w: DoctorWorld;
  beforeEach(async () => {
    w = await startDoctorWorld();
  });
  afterEach(async () => {
    await w.close();
  });

  it("--json: one document, schema secret-watchdog.doctor/v1, a stable id per check, exit 0 when all pass", async () => {
    const run = await w.cli(["--json"]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.out) as DoctorReport;
    expect(doc.schema).toBe("secret-watchdog.doctor/v1");
    expect(doc.checks.map((c) => c.id)).toEqual([...CHECK_IDS]);
    expect(doc.checks.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        "nylas.region",
        "connector.present",
        "app.found",
        "app.permission",
        "app.redirect-uri",
        "secrets.live",
        "scopes.required",
        "consent.admin",
        "grants.scopes",
        "webhook.subscription",
        "app.v2-leftovers",
        "settings.sanity",
      ]),
    );
    for (const c of doc.checks) {
      expect(c).toMatchObject({ status: "pass" });
      expect(typeof c.title).toBe("string");
      expect(typeof c.summary).toBe("string");
    }
    expect(doc).toMatchObject({
      counts: { pass: CHECK_IDS.length, warn: 0, fail: 0, skip: 0 },
      unreachable: [],
      exitCode: 0,
    });
  });

  it("seed 000 end to end: a new scope without admin consent, offline_access dropped → FAIL/WARN lines with Fix and Source, exit 1", async () => {
    w.sim.tenant.nylas.connector!.scope.push("OnlineMeetings.ReadWrite");
    const graph = w.sim.nylasApp!.requiredResourceAccess.find((r) => r.resourceAppId === GRAPH_APP_ID)!;
    graph.resourceAccess.push({ id: GRAPH_SCOPES["OnlineMeetings.ReadWrite"]!, type: "Scope" });
    w.sim.tenant.nylas.connector!.scope = w.sim.tenant.nylas.connector!.scope.filter(
      (s) => s !== "offline_access",
    );
    const run = await w.cli([]);
    expect(run.code).toBe(1);
    const lines = run.out.split("\n");
    const fail = lines.findIndex((l) =>
      /^FAIL {2}consent\.admin\s+No tenant-wide admin consent for .*OnlineMeetings\.ReadWrite/.test(l),
    );
    expect(fail).toBeGreaterThanOrEqual(0);
    expect(lines[fail + 1]).toMatch(
      /^ {6}Fix: Nylas forum, “Nylas Microsoft Provider, 45001 error code”: “The Microsoft Admin must explicitly grant tenant-wide Admin Consent/,
    );
    expect(lines.some((l) => l.startsWith(`      Source: ${PAGE.forum45001}`))).toBe(true);
    expect(run.out).toMatch(/^FAIL {2}scopes\.required\s+The connector does not ask for offline_access/m);
    expect(run.out).toMatch(/^PASS {2}nylas\.region /m);
    expect(run.out).toMatch(/^WARN {2}grants\.scopes\s+3 of 3 valid Microsoft grants lack scope/m);
    expect(run.out).toMatch(/^14 checks: 11 pass · 1 warn · 2 fail · 0 skip$/m);
  });

  it("exit 3 when Nylas cannot be reached at all, still printing the report", async () => {
    w.sim.faults.add({ service: "nylas", path: /.*/, times: Infinity, response: { reset: true } });
    const run = await w.cli([]);
    expect(run.code).toBe(3);
    expect(run.out).toMatch(/^FAIL {2}nylas\.region\s+Could not check/m);
    expect(run.out).toContain("Could not reach: Nylas.");
    expect(run.out).toMatch(/^PASS {2}settings\.sanity/m);
  });

  it("exit 3 when Microsoft Graph cannot be reached at all", async () => {
    w.sim.faults.add({ service: "graph", path: /.*/, times: Infinity, response: { reset: true } });
    const run = await w.cli(["--json"]);
    expect(run.code).toBe(3);
    const doc = JSON.parse(run.out) as DoctorReport;
    expect(doc.unreachable).toEqual(["graph"]);
    expect(doc.checks.find((c) => c.id === "app.found")!.status).toBe("fail");
    expect(doc.checks.find((c) => c.id === "connector.present")!.status).toBe("pass");
  });

  it("exit 2 when Entra refuses the watchdog's own credential: names it, and says it is not the connector's", async () => {
    const run = await w.cli([], { env: { AZURE_CLIENT_SECRET: "4f1f6a0e-3c2b-4d7e-9a1b-2c3d4e5f6a7b" } });
    expect(run.code).toBe(2);
    expect(run.out).toMatch(
      /^FAIL {2}app\.found\s+Could not check: Entra refused the watchdog's own sign-in \(AADSTS7000215/m,
    );
    expect(run.out).toMatch(
      /^The watchdog's own credential was refused: .*AZURE_CLIENT_ID\/AZURE_CLIENT_SECRET: this is the watchdog's own credential, not the connector's\./m,
    );
    // Nylas answered: this is not an unreachable service (3), and the connector's checks still ran.
    expect(run.out).not.toContain("Could not reach");
    expect(run.out).toMatch(/^PASS {2}connector\.present/m);
  });

  it("a Graph refusal inside one check fails that check, not the run", async () => {
    w.sim.faults.add({
      service: "graph",
      path: /\/owners$/,
      times: Infinity,
      response: { status: 500, body: { error: { code: "InternalServerError", message: "boom" } } },
    });
    const run = await w.cli(["--json"]);
    const doc = JSON.parse(run.out) as DoctorReport;
    expect(run.code).toBe(1);
    const permission = doc.checks.find((c) => c.id === "app.permission")!;
    expect(permission.status).toBe("fail");
    expect(permission.summary).toContain("Could not check: graph: listing application owners failed (500");
    expect(doc.checks.filter((c) => c.status === "pass")).toHaveLength(CHECK_IDS.length - 1);
  });
});
