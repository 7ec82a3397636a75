/**
 * An unresolved Key Vault reference left in a setting (App Service keeps the reference text when
 * the app's identity cannot read the vault) is a configuration problem with its own fix, whatever
 * the setting, and the reference is never echoed past its prefix.
 */
import { describe, expect, it } from "vitest";
import { SECRET_SETTINGS } from "../helpers/secret-settings.js";
import { base, problemsOf } from "../helpers/config-problems.js";
import { loadConfig } from "../../lib/config.js";

const reference = (name: string) =>
  `@Microsoft.KeyVault(SecretUri=https://contoso-kv.vault.azure.net/secrets/${name}/0f1e2d3c4b5a)`;

describe("loadConfig: unresolved Key Vault references", () => {
  it.each([...SECRET_SETTINGS])(
    "%s holding a reference is one problem that says why and links Microsoft's page",
    (name) => {
      const env: Record<string, string> = {
        ...base,
        // Partners set, so the only problem left is the reference itself.
        AZURE_CLIENT_ID: "0a0b0c0d-1111-2222-3333-444455556666",
        ALERT_WEBHOOK_URL: "https://alerts.example.com/hook",
        [name]: reference(name.toLowerCase()),
      };
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      const [problem] = problems;
      expect(problem!.setting).toBe(name);
      expect(problem!.problem).toBe(
        "Key Vault reference not resolved (the value is still @Microsoft.KeyVault(…)): the Function App's identity needs the Key Vault Secrets User role on the vault, or the secret is missing.",
      );
      expect(problem!.fix).toContain("Key Vault Secrets User");
      expect(problem!.fix).toContain(
        '"Use Key Vault references as app settings in Azure App Service and Azure Functions": https://learn.microsoft.com/azure/app-service/app-service-key-vault-references',
      );
      const text = JSON.stringify(problems);
      expect(text).not.toContain("contoso-kv");
      expect(text).not.toContain("SecretUri");
    },
  );

  it("any case of the prefix, and padded with spaces, is still a reference", () => {
    const problems = problemsOf({
      ...base,
      NYLAS_API_KEY: "  @microsoft.keyvault(VaultName=v;SecretName=s)  ",
    });
    expect(problems.map((p) => p.setting)).toEqual(["NYLAS_API_KEY"]);
    expect(problems[0]!.problem).toMatch(/^Key Vault reference not resolved/);
  });

  it("is reported beside every other problem, not instead of them", () => {
    const problems = problemsOf({ ...base, NYLAS_API_KEY: reference("nylas"), ROTATION: "sometimes" });
    expect(problems.map((p) => p.setting)).toEqual(["NYLAS_API_KEY", "ROTATION"]);
  });

  it("a value that merely mentions Key Vault further in is not a reference", () => {
    const config = loadConfig({ ...base, NYLAS_API_KEY: "nyk_abc@Microsoft.KeyVault(x)" });
    expect(config.nylas.apiKey).toBe("nyk_abc@Microsoft.KeyVault(x)");
  });
});
