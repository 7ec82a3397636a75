import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  appSettingLines,
  bicepParams,
  loadInfraSources,
  MAIN_BICEP,
  stripComments,
} from "./infra-sources.js";

// USE_USER_ASSIGNED_IDENTITY, checked as text: no Bicep compiler runs here (docs/deploy.md).
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const infra = loadInfraSources(ROOT);
const bicep = (path: string): string => stripComments(infra.bicep[path] ?? "");
const main = bicep(MAIN_BICEP);
const functionApp = bicep("infra/app/function-app.bicep");
const read = (path: string): string => readFileSync(`${ROOT}${path}`, "utf8");

/** The body of `module <name> '…' = { … }` (up to the first line that is just `}`). */
function moduleBody(name: string): string {
  return new RegExp(`^module ${name} '[^']+' = \\{\\n([\\s\\S]*?)^\\}`, "m").exec(main)?.[1] ?? "";
}

describe("USE_USER_ASSIGNED_IDENTITY in infra/main.bicep", () => {
  it("is a parameter azd fills from the environment variable, off by default", () => {
    expect(infra.parameters.parameters["useUserAssignedIdentity"]?.value).toBe(
      "${USE_USER_ASSIGNED_IDENTITY}",
    );
    // A string: an unset azd variable must not fail a bool type check.
    expect(bicepParams(infra.bicep[MAIN_BICEP]!).get("useUserAssignedIdentity")).toMatchObject({
      type: "string",
      defaultValue: "false",
    });
    expect(main).toContain("var userAssigned = toLower(useUserAssignedIdentity) == 'true'");
  });

  it("only reads the identity, from rg-<env>-identity, by its fixed name", () => {
    const identity =
      /^resource (\w+) 'Microsoft\.ManagedIdentity\/userAssignedIdentities@[\w-]+' existing = if \(userAssigned\) \{\n([\s\S]*?)^\}/m.exec(
        main,
      );
    expect(identity, "an `existing = if (userAssigned)` identity resource").not.toBeNull();
    expect(identity![2]).toContain("name: 'id-watchdog-${environmentName}'");
    expect(identity![2]).toContain("scope: resourceGroup('rg-${environmentName}-identity')");
  });

  it("deploys nothing into the identity's group, so azd down does not delete it", () => {
    // Every deployed thing is the rg resource or a module scoped to it; the identity's
    // group is named nowhere else.
    const deployed = [...main.matchAll(/^(resource|module) (\w+) '([^']+)'( existing)?/gm)].filter(
      (m) => !m[4],
    );
    for (const [, kind, name] of deployed) {
      if (kind === "resource") expect(name).toBe("rg");
      else expect(moduleBody(name!), `module ${name}`).toMatch(/^ {2}scope: rg$/m);
    }
    expect(main.match(/-identity'/g)).toHaveLength(1);
    expect(main).not.toMatch(/\bresourceGroup\((?!'rg-\$\{environmentName\}-identity'\))/);
  });

  it("hands the identity to the site, the roles, the app settings and the postprovision hook", () => {
    expect(main).toContain("var userAssignedIdentityId = userAssigned ? keptIdentity.id : ''");
    expect(main).toContain(
      "var userAssignedIdentityClientId = userAssigned ? keptIdentity.properties.clientId : ''",
    );
    expect(main).toMatch(
      /^var functionPrincipalId = userAssigned \? keptIdentity\.properties\.principalId : functionApp\.outputs\.principalId$/m,
    );
    expect(moduleBody("functionApp")).toMatch(/^ {4}userAssignedIdentityId: userAssignedIdentityId$/m);
    expect(moduleBody("rbac")).toMatch(/^ {4}functionPrincipalId: functionPrincipalId$/m);
    expect(moduleBody("appSettings")).toMatch(
      /^ {4}userAssignedIdentityClientId: userAssignedIdentityClientId$/m,
    );
    // The hook grants the Graph role and ownership to this id; kept, a re-run skips both.
    expect(main).toMatch(/^output AZURE_FUNCTION_APP_PRINCIPAL_ID string = functionPrincipalId$/m);
  });
});

describe("the user-assigned identity in infra/app/", () => {
  it("is the site's only identity", () => {
    expect(functionApp).toContain("var userAssigned = !empty(userAssignedIdentityId)");
    expect(functionApp).toMatch(
      /var siteIdentity = userAssigned \? \{\s*type: 'UserAssigned'\s*userAssignedIdentities: \{\s*'\$\{userAssignedIdentityId\}': \{\}\s*\}\s*\} : \{\s*type: 'SystemAssigned'\s*\}/,
    );
    expect(functionApp).toMatch(/^ {2}identity: siteIdentity$/m);
  });

  it("resolves Key Vault references with it", () => {
    expect(functionApp).toMatch(
      /^ {4}keyVaultReferenceIdentity: userAssigned \? userAssignedIdentityId : 'SystemAssigned'$/m,
    );
  });

  it("reads the Flex deployment package with it", () => {
    expect(functionApp).toMatch(
      /var deploymentStorageAuthentication = userAssigned \? \{\s*type: 'UserAssignedIdentity'\s*userAssignedIdentityResourceId: userAssignedIdentityId\s*\} : \{\s*type: 'SystemAssignedIdentity'\s*\}/,
    );
    expect(functionApp).toMatch(/^ {10}authentication: deploymentStorageAuthentication$/m);
  });

  it("names it, by client id, to the host's storage, to Application Insights and to DefaultAzureCredential", () => {
    const settings = appSettingLines(infra).filter((l) => l.file === "infra/app/app-settings.bicep");
    const setting = (name: string) => settings.find((l) => l.name === name);
    expect(bicep("infra/app/app-settings.bicep")).toContain(
      "var useUserAssignedIdentity = !empty(userAssignedIdentityClientId)",
    );
    expect(setting("AZURE_CLIENT_ID")).toMatchObject({
      value: "userAssignedIdentityClientId",
      guard: "useUserAssignedIdentity",
    });
    expect(setting("AzureWebJobsStorage__clientId")).toMatchObject({
      value: "userAssignedIdentityClientId",
      guard: "useUserAssignedIdentity",
    });
    expect(setting("AzureWebJobsStorage__credential")).toMatchObject({ value: "'managedidentity'" });
    expect(setting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")?.value).toBe(
      "useUserAssignedIdentity ? 'ClientId=${userAssignedIdentityClientId};Authorization=AAD' : 'Authorization=AAD'",
    );
  });

  it("gets the roles, whichever identity it is", () => {
    const rbac = bicep("infra/app/rbac.bicep");
    const assignments = rbac.match(
      /^ {6}principalId: functionPrincipalId$|^ {4}principalId: functionPrincipalId$/gm,
    );
    expect(assignments).toHaveLength(3);
  });
});

describe("the preprovision hooks and the Bicep agree on the names", () => {
  const bicepNames = (env: string) => ({
    group: `rg-${env}-identity`,
    identity: `id-watchdog-${env}`,
  });

  it.each([
    [
      "infra/scripts/preprovision.sh",
      /^group="rg-\$\{env_name\}-identity"$/m,
      /^name="id-watchdog-\$\{env_name\}"$/m,
    ],
    [
      "infra/scripts/preprovision.ps1",
      /^\$group = "rg-\$envName-identity"$/m,
      /^\$name = "id-watchdog-\$envName"$/m,
    ],
  ])("%s", (path, group, identity) => {
    const text = read(path);
    expect(text).toMatch(group);
    expect(text).toMatch(identity);
    // The Bicep spells the same names with its own interpolation.
    const names = bicepNames("${environmentName}");
    expect(main).toContain(`'${names.identity}'`);
    expect(main).toContain(`resourceGroup('${names.group}')`);
  });
});

describe("docs/deploy.md", () => {
  const section =
    /^## Keep the identity across azd down\n([\s\S]*?)(?=^## )/m.exec(read("docs/deploy.md"))?.[1] ?? "";

  it("has a section on keeping the identity: the one command, azd down, how to remove it, text-only tests", () => {
    expect(section).toContain("azd env set USE_USER_ASSIGNED_IDENTITY true");
    expect(section).toContain("**On `azd down`**");
    expect(section).toContain("az group delete --name rg-<env>-identity");
    expect(section).toContain("No Bicep compiler runs in the tests.");
  });
});
