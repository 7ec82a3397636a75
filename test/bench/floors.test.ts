/**
 * The bench's floors must read what the product reads, or a ratio means
 * nothing: same endpoints, same page sizes, same items. Counted against the
 * simulator; no timing here (`npm run bench` does that).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageApplicationsFloor, pageGrantsFloor, startBareServer } from "../../bench/floors.js";
import { CREDENTIAL_SELECT } from "../../lib/clients/graph.js";
import { MAX_GRANTS_PAGE, NylasClient } from "../../lib/clients/nylas.js";
import { systemClock } from "../../lib/clock.js";
import { silentLogger } from "../../lib/logger.js";
import { startSimulator, type Simulator } from "../../lib/sim/index.js";
import { runProcess } from "../helpers/run-process.js";
import { tempDirs } from "../helpers/temp-dirs.js";

let sim: Simulator;
const tempDir = tempDirs("scan-floor-sdk-");

beforeAll(async () => {
  sim = await startSimulator();
  sim.tenant.grantAppRole(sim.watchdog.servicePrincipalId, "Application.Read.All");
  while (sim.tenant.apps.size < 1_500) {
    sim.tenant.addApp({ displayName: `app ${sim.tenant.apps.size}` }, { servicePrincipal: false });
  }
  for (let i = 0; i < 450; i++) sim.tenant.nylas.addGrant({ email: `user${i}@contoso.com` });
});
afterAll(async () => {
  await sim.close();
});

describe("bench floors", () => {
  it("the scan floor pages /applications with the product's $select and $top=999, every app once", async () => {
    const from = sim.requests.length;
    const handed: unknown[][] = [];
    const count = await pageApplicationsFloor({
      onPage: (apps) => handed.push(apps),
      authorityHost: sim.urls.authorityHost,
      tenantId: sim.tenant.tenantId,
      clientId: sim.watchdog.appId,
      clientSecret: sim.watchdog.secret,
      graphEndpoint: sim.urls.graphEndpoint,
      select: CREDENTIAL_SELECT,
    });
    expect(count).toBe(sim.tenant.apps.size);
    const pages = sim.requests.slice(from).filter((r) => r.service === "graph");
    expect(pages).toHaveLength(2);
    expect(pages[0]!.query).toMatchObject({ $select: CREDENTIAL_SELECT.join(","), $top: "999" });
    // The whole-process floor writes what it is handed: every app once, as Graph returned it.
    expect(handed.map((page) => page.length)).toEqual([999, count - 999]);
    const ids = new Set(handed.flat().map((app) => (app as { id: string }).id));
    expect(ids).toEqual(new Set([...sim.tenant.apps.values()].map((app) => app.id)));
  });

  it("the floor on the stack's SDKs gets its token from Entra, pages like the bare floor and writes exactly the bytes asked", async () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const dir = await tempDir();
    const built = spawnSync(process.execPath, [join(root, "scripts/bundle-bench.mjs"), dir], {
      encoding: "utf8",
    });
    expect(built.status, built.stderr).toBe(0);
    const from = sim.requests.length;
    const target = 2 * 2 ** 20;
    const { code, stdout, stderr } = await runProcess(process.execPath, [join(dir, "scan-floor-sdk.js")], {
      env: sim.env({ BENCH_SELECT: CREDENTIAL_SELECT.join(","), BENCH_JSON_BYTES: String(target) }),
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`scan: ${sim.tenant.apps.size} app(s)`);
    // The document is the size asked: the bench gives both floors the product's.
    expect(Buffer.byteLength(stdout)).toBe(target);
    const apps = stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { id: string });
    expect(new Set(apps.map((app) => app.id))).toEqual(
      new Set([...sim.tenant.apps.values()].map((app) => app.id)),
    );
    const seen = sim.requests.slice(from);
    expect(seen.filter((r) => r.service === "entra" && r.path.endsWith("/oauth2/v2.0/token"))).toHaveLength(
      1,
    );
    const pages = seen.filter((r) => r.service === "graph");
    expect(pages).toHaveLength(2);
    expect(pages[0]!.query).toMatchObject({ $select: CREDENTIAL_SELECT.join(","), $top: "999" });
  }, 60_000);

  it("the sweep floor pages /v3/grants by offset at the sweep's limit, as the product's client does", async () => {
    const floorFrom = sim.requests.length;
    const count = await pageGrantsFloor({
      apiUri: sim.urls.nylasApiUri,
      apiKey: sim.tenant.nylas.apiKey,
      limit: MAX_GRANTS_PAGE,
    });
    const floorPages = sim.requests.slice(floorFrom).filter((r) => r.service === "nylas");

    const clientFrom = sim.requests.length;
    const client = new NylasClient({
      apiKey: sim.tenant.nylas.apiKey,
      apiUri: sim.urls.nylasApiUri,
      clock: systemClock,
      logger: silentLogger,
    });
    let read = 0;
    for await (const page of client.listGrantPages({ limit: 200 })) read += page.length;
    const clientPages = sim.requests.slice(clientFrom).filter((r) => r.service === "nylas");

    expect(count).toBe(sim.tenant.nylas.grants.length);
    expect(read).toBe(count);
    const shape = (r: (typeof floorPages)[number]) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`;
    expect(floorPages.map(shape)).toEqual(clientPages.map(shape));
  });

  it("the serve floor answers 200 after reading the body", async () => {
    const { server, url } = await startBareServer();
    try {
      const response = await fetch(`${url}/api/nylas/webhook`, { method: "POST", body: "x".repeat(10_000) });
      expect(response.status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
