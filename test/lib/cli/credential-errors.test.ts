/**
 * Errors that name the right thing (issue 12): the watchdog's OWN identity failing is a setting to
 * fix (exit 2) that names AZURE_CLIENT_ID/AZURE_CLIENT_SECRET and says it is not the connector's; an
 * unresolved Key Vault reference is a configuration problem, not a region or network one. Through
 * the CLI, against the simulator's Entra, which refuses as Entra does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startSimulator, type Simulator } from "../../../lib/sim/index.js";
import { runWatchdog, type CliResult } from "../../helpers/cli.js";

const DAY_MS = 86_400_000;
const KV_REFERENCE =
  "@Microsoft.KeyVault(SecretUri=https://contoso-watchdog.vault.azure.net/secrets/nylas-api-key/0123456789abcdef)";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: { connectorSecretDaysLeft: 100 } });
});
afterAll(async () => {
  await sim.close();
});

/** Every secret the simulator holds: none may ever be printed. */
function secretsOf(s: Simulator): string[] {
  const apps = s.tenant.appsSnapshot().list;
  return [
    s.watchdog.secret,
    s.tenant.nylas.apiKey,
    ...apps.flatMap((a) => a.passwordCredentials.map((p) => p.value)),
  ];
}

function expectNoSecret(result: CliResult, extra: string[] = []): void {
  const printed = result.stdout + result.stderr;
  for (const secret of [...secretsOf(sim), ...extra]) {
    expect(printed.includes(secret), `printed a secret (${secret.slice(0, 3)}…)`).toBe(false);
  }
}

describe("the watchdog's own credential refused by Entra", () => {
  it("a wrong AZURE_CLIENT_SECRET (the secret ID pasted): exit 2, names it, and says it is not the connector's", async () => {
    const secretId = "4f1f6a0e-3c2b-4d7e-9a1b-2c3d4e5f6a7b";
    const result = await runWatchdog(["scan"], sim.env({ AZURE_CLIENT_SECRET: secretId }));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/AADSTS7000215/);
    expect(result.stderr).toMatch(/AZURE_CLIENT_SECRET/);
    expect(result.stderr).toMatch(/this is the watchdog's own credential, not the connector's/);
    expect(result.stderr).toMatch(/the secret's Value, not its Secret ID/);
    // Not blamed on the network, and the connector's app is not what it names first.
    expect(result.stderr).not.toMatch(/reachable|network path/);
    expect(result.stderr).not.toContain(sim.nylasApp!.appId);
    expectNoSecret(result, [secretId]);
  });

  it("the watchdog's own secret expired: exit 2, create a new secret for the watchdog's app", async () => {
    const own = sim.tenant.appByAppId(sim.watchdog.appId)!;
    const password = own.passwordCredentials.find((p) => p.value === sim.watchdog.secret)!;
    const endDateTime = password.endDateTime;
    password.endDateTime = new Date(Date.now() - DAY_MS).toISOString();
    try {
      const result = await runWatchdog(["scan", "--json"], sim.env());
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/AADSTS7000222/);
      expect(result.stderr).toMatch(/this is the watchdog's own credential, not the connector's/);
      expect(result.stderr).toMatch(/Create a new client secret for the watchdog's app/);
      expect(result.stderr).toMatch(/AZURE_CLIENT_SECRET/);
      expectNoSecret(result);
    } finally {
      password.endDateTime = endDateTime;
    }
  });

  it("AZURE_CLIENT_ID names no app in the tenant: exit 2, check the AZURE_CLIENT_ID / AZURE_TENANT_ID pair", async () => {
    const result = await runWatchdog(
      ["scan"],
      sim.env({ AZURE_CLIENT_ID: "0a0b0c0d-1111-2222-3333-444455556666" }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/AADSTS700016/);
    expect(result.stderr).toMatch(/this is the watchdog's own credential, not the connector's/);
    expect(result.stderr).toMatch(/AZURE_CLIENT_ID \/ AZURE_TENANT_ID pair/);
    expectNoSecret(result);
  });

  it("a good credential still scans (exit 0): the classification only catches refusals", async () => {
    const result = await runWatchdog(["scan"], sim.env());
    expect(result.code).toBe(0);
  });
});

describe("no credential at all", () => {
  let home: string;
  beforeAll(() => {
    // DefaultAzureCredential reads process.env and the developer's logins: none of it may leak in.
    home = mkdtempSync(join(tmpdir(), "watchdog-no-login-"));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  function withoutAnyLogin(): void {
    for (const name of Object.keys(process.env)) {
      if (/^(AZURE_|AZD_|IDENTITY_|MSI_|IMDS_)/.test(name)) vi.stubEnv(name, undefined);
    }
    vi.stubEnv("HOME", home);
    vi.stubEnv("USERPROFILE", home);
    vi.stubEnv("AZURE_CONFIG_DIR", join(home, ".azure"));
    vi.stubEnv("AZD_CONFIG_DIR", join(home, ".azd"));
    // An Azure VM's own managed identity must not answer either: IMDS is pointed at a closed port.
    vi.stubEnv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
  }

  function envWithoutSecret(): Record<string, string> {
    const { AZURE_CLIENT_SECRET: _secret, AZURE_CLIENT_ID: _id, ...env } = sim.env();
    return env;
  }

  it("exit 2: set AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or `az login`; no credential chain without --verbose", async () => {
    withoutAnyLogin();
    const result = await runWatchdog(["scan"], envWithoutSecret());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/No credential for the watchdog's own identity/);
    expect(result.stderr).toContain("set AZURE_CLIENT_ID/AZURE_CLIENT_SECRET");
    expect(result.stderr).toContain("`az login`");
    expect(result.stderr).not.toMatch(/ChainedTokenCredential|CredentialUnavailableError/);
    expect(result.stderr).not.toMatch(/GRAPH_ENDPOINT is reachable/);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expectNoSecret(result);
  });

  it("--verbose puts each credential's reason in the debug log", async () => {
    withoutAnyLogin();
    const result = await runWatchdog(["scan", "--verbose"], envWithoutSecret());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^debug .*no token for the watchdog's own identity/m);
    expect(result.stderr).toMatch(/CredentialUnavailableError: EnvironmentCredential/);
    expectNoSecret(result);
  });
});

describe("an unresolved Key Vault reference", () => {
  it("in NYLAS_API_KEY: exit 2, a configuration problem naming the role and Microsoft's page", async () => {
    const result = await runWatchdog(["scan"], sim.env({ NYLAS_API_KEY: KV_REFERENCE }));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/NYLAS_API_KEY: Key Vault reference not resolved/);
    expect(result.stderr).toContain(
      "the Function App's identity needs the Key Vault Secrets User role on the vault, or the secret is missing",
    );
    expect(result.stderr).toContain(
      "https://learn.microsoft.com/azure/app-service/app-service-key-vault-references",
    );
    expect(result.stderr).not.toMatch(/region|network/);
    // Only the prefix is ever echoed: the reference names the vault and the secret.
    expect(result.stderr).not.toContain("contoso-watchdog");
    expect(result.stderr).not.toContain("SecretUri");
    expectNoSecret(result);
  });

  it("in AZURE_CLIENT_SECRET and a sink URL at once: each is its own problem, nothing sent to Entra", async () => {
    const from = sim.requests.length;
    const result = await runWatchdog(
      ["scan"],
      sim.env({
        AZURE_CLIENT_SECRET: "@Microsoft.KeyVault(VaultName=contoso-watchdog;SecretName=watchdog-secret)",
        SLACK_WEBHOOK_URL: "@Microsoft.KeyVault(VaultName=contoso-watchdog;SecretName=slack-url)",
      }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/AZURE_CLIENT_SECRET: Key Vault reference not resolved/);
    expect(result.stderr).toMatch(/SLACK_WEBHOOK_URL: Key Vault reference not resolved/);
    expect(result.stderr).not.toContain("contoso-watchdog");
    expect(sim.requests.slice(from).filter((r) => r.service === "entra")).toHaveLength(0);
  });
});
