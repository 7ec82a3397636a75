import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runProcess, type ProcessResult } from "../helpers/run-process.js";

// infra/scripts/preprovision.sh against the stand-in `az` (test/infra/fixtures/az), which keeps
// the subscription's resource groups and identities in files, so a re-run sees the first run.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HOOKS = join(ROOT, "infra", "scripts");
const ENV_NAME = "watchdog-prod";
const SUBSCRIPTION = "3c9f0e21-5b7a-4d8e-9f10-112233445566";
const PRINCIPAL = "7d1f2e3c-aaaa-4bbb-8ccc-0123456789ab";
const GROUP = `rg-${ENV_NAME}-identity`;
const IDENTITY = `id-watchdog-${ENV_NAME}`;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "preprovision-"));
  copyFileSync(join(ROOT, "test", "infra", "fixtures", "az"), join(dir, "az"));
  chmodSync(join(dir, "az"), 0o755);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a hook as azd would (bash <script>, azd's environment), with only `env` on top. */
async function runHook(script: string, env: Record<string, string> = {}): Promise<ProcessResult> {
  const run = await runProcess("bash", [join(HOOKS, script)], {
    cwd: dir,
    env: {
      PATH: [dir, dirname(process.execPath), process.env.PATH ?? "/usr/bin:/bin"].join(":"),
      HOME: dir,
      AZ_STUB_DIR: dir,
      AZ_STUB_SUBSCRIPTION: SUBSCRIPTION,
      AZ_STUB_NEW_PRINCIPAL: PRINCIPAL,
      AZURE_ENV_NAME: ENV_NAME,
      AZURE_LOCATION: "westeurope",
      AZURE_SUBSCRIPTION_ID: SUBSCRIPTION,
      ...env,
    },
  });
  expect(run.stderr, "the script made a call the az stub does not know").not.toContain("az stub:");
  return run;
}

const preprovision = (env: Record<string, string> = {}): Promise<ProcessResult> =>
  runHook("preprovision.sh", { USE_USER_ASSIGNED_IDENTITY: "true", ...env });
const calls = (): string[] =>
  existsSync(join(dir, "calls.log")) ? readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n") : [];
const creates = (): string[] => calls().filter((c) => / create /.test(` ${c} `));

describe("infra/scripts/preprovision.sh", () => {
  it.each([undefined, "", "false", "1", "yes"])(
    "does nothing at all when USE_USER_ASSIGNED_IDENTITY is %j",
    async (value) => {
      const run = await runHook(
        "preprovision.sh",
        value === undefined ? {} : { USE_USER_ASSIGNED_IDENTITY: value },
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toBe("");
      expect(calls()).toEqual([]);
    },
  );

  it("creates the group, then the identity, in azd's subscription, when the setting is true (any case)", async () => {
    const run = await preprovision({ USE_USER_ASSIGNED_IDENTITY: "TRUE" });
    expect(run.code).toBe(0);
    expect(readFileSync(join(dir, `group-${GROUP}`), "utf8")).toBe("westeurope");
    expect(readFileSync(join(dir, `identity-${IDENTITY}`), "utf8").trim()).toBe(PRINCIPAL);
    expect(creates().map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual([
      "group create",
      "identity create",
    ]);
    // Every call names the subscription azd deploys to (the stub refuses any other).
    for (const call of calls().filter((c) => !c.startsWith("account "))) {
      expect(call).toContain(`--subscription ${SUBSCRIPTION}`);
    }
    expect(run.stdout).toContain(`Identity ${IDENTITY}: created (principal id ${PRINCIPAL})`);
    expect(run.stdout).toContain(`az group delete --name ${GROUP}`);
  });

  it("tags the group as its own, not with azd-env-name (azd finds its resource groups by that tag)", async () => {
    await preprovision();
    const groupCreate = creates().find((c) => c.startsWith("group create")) ?? "";
    expect(groupCreate).toContain(`secret-watchdog-env=${ENV_NAME}`);
    expect(groupCreate).not.toContain("azd-env-name");
  });

  it("is idempotent: a re-run keeps the group and the identity and creates nothing", async () => {
    expect((await preprovision()).code).toBe(0);
    const afterFirst = creates().length;
    const second = await preprovision({ AZURE_LOCATION: "eastus" });
    expect(second.code).toBe(0);
    expect(creates()).toHaveLength(afterFirst);
    expect(second.stdout).toContain(`Resource group ${GROUP}: exists, kept.`);
    expect(second.stdout).toContain(`Identity ${IDENTITY}: exists, kept (principal id ${PRINCIPAL})`);
    // The group stays where it was, whatever the environment's region is now.
    expect(readFileSync(join(dir, `group-${GROUP}`), "utf8")).toBe("westeurope");
  });

  it("needs a region only to create the group", async () => {
    const run = await preprovision({ AZURE_LOCATION: "" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("azd env set AZURE_LOCATION <region>");
    expect(creates()).toEqual([]);
  });

  it("stops azd with the role it lacks when the identity cannot be created", async () => {
    const run = await preprovision({ AZ_STUB_FORBID_IDENTITY: "1" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`could not create the managed identity ${IDENTITY} in ${GROUP}`);
    expect(run.stderr).toContain("Managed Identity Contributor");
    expect(existsSync(join(dir, `identity-${IDENTITY}`))).toBe(false);
  });

  it("stops when az is signed in to a subscription that is not azd's", async () => {
    const run = await preprovision({ AZ_STUB_SUBSCRIPTION: "00000000-0000-0000-0000-000000000000" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`could not look up resource group ${GROUP} in subscription ${SUBSCRIPTION}`);
    expect(creates()).toEqual([]);
  });
});

describe("with the identity kept, a redeployment needs no Entra admin", () => {
  const postprovisionEnv = {
    AZ_STUB_TENANT: "72f988bf-0000-4000-8000-000000000001",
    AZ_STUB_MI: PRINCIPAL,
    AZ_STUB_GRAPH_SP: "9e5c3b1d-aaaa-4bbb-8ccc-dddddddddddd",
    AZ_STUB_APP_CLIENT_ID: "c0ffee00-1234-4567-89ab-cdef01234567",
    AZ_STUB_APP_OBJECT_ID: "5a1e0b7c-7777-4888-9999-000011112222",
    AZ_STUB_SITE_ID: "/subscriptions/x/resourceGroups/rg-watchdog-prod/providers/Microsoft.Web/sites/func",
    AZURE_TENANT_ID: "72f988bf-0000-4000-8000-000000000001",
    NYLAS_AZURE_APP_CLIENT_ID: "c0ffee00-1234-4567-89ab-cdef01234567",
    // What main.bicep outputs with the identity on: the identity's own principal id.
    AZURE_FUNCTION_APP_PRINCIPAL_ID: PRINCIPAL,
  };

  it("the first up grants once; after azd down the same identity is found with both grants in place", async () => {
    expect((await preprovision()).code).toBe(0);
    const first = await runHook("postprovision.sh", postprovisionEnv);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("(a) granted");
    expect(first.stdout).toContain("(b) added");

    // azd down deletes rg-<env> (not modelled: the stub holds only the identity's group and
    // the directory). The next azd up, by someone who may grant nothing:
    expect((await preprovision()).stdout).toContain(`exists, kept (principal id ${PRINCIPAL})`);
    const again = await runHook("postprovision.sh", { ...postprovisionEnv, AZ_STUB_FORBID_ROLE: "1" });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("(a) skipped");
    expect(again.stdout).toContain("(b) skipped");
    expect(again.stdout).not.toContain("NOT ready");
  });
});
