import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProcess, type ProcessResult } from "../helpers/run-process.js";

// infra/scripts/postprovision.sh against a stand-in `az` (test/infra/fixtures/az) that keeps
// the directory's state in files, so idempotence and failure paths run for real in bash.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCRIPT = join(ROOT, "infra", "scripts", "postprovision.sh");
const OWNED_BY = "18a4783c-866b-4cc7-a460-3d5e5662c884";
const IDS = {
  tenant: "72f988bf-0000-4000-8000-000000000001",
  mi: "0b5e3c2a-1111-4222-8333-444455556666",
  graphSp: "9e5c3b1d-aaaa-4bbb-8ccc-dddddddddddd",
  appClientId: "c0ffee00-1234-4567-89ab-cdef01234567",
  appObjectId: "5a1e0b7c-7777-4888-9999-000011112222",
  siteId:
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-watchdog-abc",
};

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "postprovision-"));
  copyFileSync(join(ROOT, "test", "infra", "fixtures", "az"), join(dir, "az"));
  chmodSync(join(dir, "az"), 0o755);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the hook as azd would (bash <script>, azd's environment), with only `env` on top. */
async function runHook(env: Record<string, string> = {}): Promise<ProcessResult> {
  // cwd = the project directory, as azd runs hooks; here a scratch one holding .azure/<env>/.
  const run = await runProcess("bash", [SCRIPT], {
    cwd: dir,
    env: {
      PATH: [dir, dirname(process.execPath), process.env.PATH ?? "/usr/bin:/bin"].join(":"),
      HOME: dir,
      AZ_STUB_DIR: dir,
      AZ_STUB_TENANT: IDS.tenant,
      AZ_STUB_MI: IDS.mi,
      AZ_STUB_GRAPH_SP: IDS.graphSp,
      AZ_STUB_APP_CLIENT_ID: IDS.appClientId,
      AZ_STUB_APP_OBJECT_ID: IDS.appObjectId,
      AZ_STUB_SITE_ID: IDS.siteId,
      AZURE_TENANT_ID: IDS.tenant,
      AZURE_FUNCTION_APP_PRINCIPAL_ID: IDS.mi,
      AZURE_FUNCTION_APP_ID: IDS.siteId,
      ...env,
    },
  });
  expect(run.stderr, "the script made a call the az stub does not know").not.toContain("az stub:");
  return run;
}

const calls = (): string[] =>
  existsSync(join(dir, "calls.log")) ? readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n") : [];
const graphPosts = (): string[] => calls().filter((c) => c.startsWith("rest --method post --resource"));
const stored = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), "utf8"));

describe("infra/scripts/postprovision.sh", () => {
  it("grants Application.ReadWrite.OwnedBy and ownership, then skips both on a re-run", async () => {
    const first = await runHook({ NYLAS_AZURE_APP_CLIENT_ID: IDS.appClientId });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("(a) granted");
    expect(first.stdout).toContain("(b) added");
    // The role is assigned on Microsoft Graph's service principal, to the identity.
    expect(stored("role")).toEqual({ principalId: IDS.mi, resourceId: IDS.graphSp, appRoleId: OWNED_BY });
    expect(stored("owner")).toEqual({
      "@odata.id": `https://graph.microsoft.com/v1.0/directoryObjects/${IDS.mi}`,
    });
    expect(graphPosts()).toHaveLength(2);

    const second = await runHook({ NYLAS_AZURE_APP_CLIENT_ID: IDS.appClientId });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("(a) skipped");
    expect(second.stdout).toContain("(b) skipped");
    expect(graphPosts()).toHaveLength(2);
  });

  // The hook reads the connector with curl; without curl it says so (not tested here).
  const hasCurl = spawnSync("curl", ["--version"]).status === 0;

  describe.skipIf(!hasCurl)("with a Nylas connector", () => {
    let server: Server;
    let seenAuthorization: string | undefined;
    const apiKey = "nyk_v0_do_not_print_this_key_0123456789";

    beforeEach(async () => {
      seenAuthorization = undefined;
      server = createServer((req, res) => {
        seenAuthorization = req.headers.authorization;
        const ok = req.url === "/v3/connectors/microsoft" && req.headers.authorization === `Bearer ${apiKey}`;
        res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
        res.end(
          JSON.stringify(
            ok
              ? {
                  request_id: "r1",
                  data: { provider: "microsoft", settings: { client_id: IDS.appClientId, tenant: "common" } },
                }
              : { request_id: "r1", error: { type: "unauthorized", message: "Unauthorized" } },
          ),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    });

    afterEach(async () => {
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    });

    it("reads the app registration's client ID from it and never shows the API key", async () => {
      const { port } = server.address() as AddressInfo;
      const run = await runHook({ NYLAS_API_KEY: apiKey, NYLAS_API_URI: `http://127.0.0.1:${port}` });
      expect(seenAuthorization).toBe(`Bearer ${apiKey}`);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`from the Nylas Microsoft connector: ${IDS.appClientId}`);
      expect(run.stdout).toContain("(b) added");
      for (const text of [run.stdout, run.stderr, calls().join("\n")]) expect(text).not.toContain(apiKey);
    });

    it("finds the key typed at azd's prompt in .azure/<env>/config.json, which azd does not pass to hooks", async () => {
      const { port } = server.address() as AddressInfo;
      mkdirSync(join(dir, ".azure", "prod"), { recursive: true });
      writeFileSync(
        join(dir, ".azure", "prod", "config.json"),
        JSON.stringify({ infra: { parameters: { nylasApiKey: apiKey } } }),
      );
      const run = await runHook({ AZURE_ENV_NAME: "prod", NYLAS_API_URI: `http://127.0.0.1:${port}` });
      expect(seenAuthorization).toBe(`Bearer ${apiKey}`);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("(a) granted");
      expect(run.stdout).toContain("(b) added");
      expect(stored("owner")).toEqual({
        "@odata.id": `https://graph.microsoft.com/v1.0/directoryObjects/${IDS.mi}`,
      });
      for (const text of [run.stdout, run.stderr, calls().join("\n")]) expect(text).not.toContain(apiKey);
    });

    it("says so when the connector cannot be read, and does not guess", async () => {
      const { port } = server.address() as AddressInfo;
      const run = await runHook({ NYLAS_API_KEY: "nyk_wrong", NYLAS_API_URI: `http://127.0.0.1:${port}` });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("could not read a client ID from the Nylas Microsoft connector");
      expect(run.stderr).toContain("NOT DONE: (b) skipped");
      expect(existsSync(join(dir, "owner"))).toBe(false);
    });
  });

  it("names what an admin must do when Graph refuses the role, and still does the rest", async () => {
    const run = await runHook({ NYLAS_AZURE_APP_CLIENT_ID: IDS.appClientId, AZ_STUB_FORBID_ROLE: "1" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("NOT DONE: (a)");
    expect(run.stderr).toContain("Privileged Role Administrator");
    expect(run.stdout).toContain("(b) added");
    expect(run.stdout).toContain("1 step(s) not done");
  });

  it("ends with a banner on both streams naming the exact commands, and exits 1 so azd up stops", async () => {
    const run = await runHook({ NYLAS_AZURE_APP_CLIENT_ID: IDS.appClientId, AZ_STUB_FORBID_ROLE: "1" });
    expect(run.code).toBe(1);
    for (const text of [run.stdout, run.stderr]) {
      expect(text).toContain("secret-watchdog is NOT ready: 1 step(s) not done.");
      expect(text).toContain(`"principalId":"${IDS.mi}"`);
      expect(text).toContain(`"appRoleId":"${OWNED_BY}"`);
      expect(text).toContain(`applications(appId='${IDS.appClientId}')`);
    }
    expect(run.stdout).toContain("azd env set WATCHDOG_GRANTS_PENDING true");
  });

  it("lets azd up go on with WATCHDOG_GRANTS_PENDING=true, banner still shown", async () => {
    const run = await runHook({
      NYLAS_AZURE_APP_CLIENT_ID: IDS.appClientId,
      AZ_STUB_FORBID_ROLE: "1",
      WATCHDOG_GRANTS_PENDING: "true",
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("secret-watchdog is NOT ready");
    expect(run.stdout).toContain("health stays degraded");
  });

  it("azure.yaml does not let azd carry on past a failed hook", () => {
    const yaml = readFileSync(join(ROOT, "azure.yaml"), "utf8");
    const hook = yaml.slice(yaml.indexOf("postprovision:"));
    expect(hook.match(/continueOnError: (\w+)/g)).toEqual([
      "continueOnError: false",
      "continueOnError: false",
    ]);
  });

  it("fails when it has no app registration to own, after granting the role", async () => {
    const run = await runHook();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("(a) granted");
    expect(run.stderr).toContain("azd env set NYLAS_AZURE_APP_CLIENT_ID");
  });

  it("rejects a client ID that is not a GUID", async () => {
    const run = await runHook({ NYLAS_AZURE_APP_CLIENT_ID: "my-app" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"my-app" is not a GUID');
    expect(graphPosts().filter((c) => c.includes("/owners/"))).toEqual([]);
  });

  it("reports an app registration that is not in the tenant", async () => {
    const run = await runHook({ NYLAS_AZURE_APP_CLIENT_ID: "deadbeef-0000-4000-8000-000000000000" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("a 404 means no such app in tenant");
  });

  it("stops before any Graph call when az is signed in to another tenant", async () => {
    const run = await runHook({ AZURE_TENANT_ID: "11111111-2222-4333-8444-555555555555" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("az login --tenant 11111111-2222-4333-8444-555555555555");
    expect(calls().filter((c) => c.startsWith("rest"))).toEqual([]);
  });

  it("stops when azd has not provisioned the identity yet", async () => {
    const run = await runHook({ AZURE_FUNCTION_APP_PRINCIPAL_ID: "" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Run 'azd provision' first");
  });

  it("refreshes the Key Vault references and lists the ones that do not resolve", async () => {
    const run = await runHook({ NYLAS_AZURE_APP_CLIENT_ID: IDS.appClientId, AZ_STUB_UNRESOLVED: "1" });
    expect(calls()).toContain(
      `rest --method post --url ${IDS.siteId}/config/configreferences/appsettings/refresh?api-version=2022-03-01 --output none`,
    );
    expect(run.stdout).toContain("NYLAS_API_KEY\tAccessToKeyVaultDenied");
  });
});
