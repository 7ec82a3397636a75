import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The Windows hooks (.ps1) cannot run here (no pwsh), so they are held to their bash twins,
// which postprovision.test.ts and preprovision.test.ts run, as text: what they print when
// grants are missing, where they find the Nylas key, and when they stop azd up.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}infra/scripts/${path}`, "utf8");
const sh = read("postprovision.sh");
const ps1 = read("postprovision.ps1");

/** The same value under each script's name for it; an unknown name fails the render. */
const SH_VARIABLES: Readonly<Record<string, string>> = {
  failures: "FAILURES",
  graph: "GRAPH",
  MS_GRAPH_APP_ID: "GRAPH_APP_ID",
  mi: "IDENTITY",
  OWNED_BY_ROLE_ID: "ROLE_ID",
  client: "CLIENT_ID",
};
const PS_VARIABLES: Readonly<Record<string, string>> = {
  notdone: "FAILURES",
  graph: "GRAPH",
  msgraphappid: "GRAPH_APP_ID",
  mi: "IDENTITY",
  ownedbyroleid: "ROLE_ID",
  client: "CLIENT_ID",
};

function variable(map: Readonly<Record<string, string>>, name: string): string {
  const canonical = map[name];
  if (canonical === undefined) throw new Error(`the banner uses $${name}, unknown to this test: map it`);
  return `<${canonical}>`;
}

/** What bash prints for an unquoted here-document: \$ \\ \` unescaped, ${name} expanded. */
function renderBashHeredoc(text: string): string {
  return text.replace(
    /\\([$`\\])|\$\{(\w+)\}|\$(\w+)/g,
    (_, escaped?: string, braced?: string, bare?: string) =>
      escaped ?? variable(SH_VARIABLES, (braced ?? bare)!),
  );
}

/** What PowerShell prints for an expandable here-string: `x unescaped, $name expanded. */
function renderPowerShellHereString(text: string): string {
  return text.replace(
    /`(.)|\$\{(\w+)\}|\$(\w+)/g,
    (_, escaped?: string, braced?: string, bare?: string) =>
      escaped ?? variable(PS_VARIABLES, (braced ?? bare)!.toLowerCase()),
  );
}

function bashBanner(): string {
  const body = /cat <<BANNER\n([\s\S]*?)\nBANNER\n/.exec(sh)?.[1];
  if (body === undefined) throw new Error("no `cat <<BANNER` here-document in postprovision.sh");
  return renderBashHeredoc(body);
}

function powerShellBanner(): string {
  const body = /function Get-Banner \{[\s\S]*?return @"\n([\s\S]*?)\n"@/.exec(ps1)?.[1];
  if (body === undefined) throw new Error('no Get-Banner here-string (@"…"@) in postprovision.ps1');
  return renderPowerShellHereString(body);
}

/** The value of a constant: `readonly NAME="v"` (bash) or `$Name = 'v'` (PowerShell). */
function constant(text: string, name: string): string | undefined {
  return new RegExp(`^(?:readonly ${name}="|\\$${name} = ')([^"']*)["']`, "m").exec(text)?.[1];
}

describe("postprovision.ps1 keeps step with postprovision.sh", () => {
  it("prints the same banner, line for line, with the same values in it", () => {
    const bash = bashBanner().split("\n");
    expect(bash.length).toBeGreaterThan(10);
    expect(powerShellBanner().split("\n")).toEqual(bash);
    expect(bash).toContain(
      `    sp=$(az rest --method get --url "<GRAPH>/v1.0/servicePrincipals(appId='<GRAPH_APP_ID>')?\\$select=id" --query id -o tsv)`,
    );
    expect(bash.join("\n")).toContain(`"principalId":"<IDENTITY>"`);
    expect(bash.join("\n")).toContain("applications(appId='<CLIENT_ID>')");

    // The names above stand for the same values in both.
    expect(constant(ps1, "OwnedByRoleId")).toBe(constant(sh, "OWNED_BY_ROLE_ID"));
    expect(constant(ps1, "MsGraphAppId")).toBe(constant(sh, "MS_GRAPH_APP_ID"));
    expect(constant(sh, "OWNED_BY_ROLE_ID")).toBe("18a4783c-866b-4cc7-a460-3d5e5662c884");
    const placeholder = "<client ID of the app registration in the Nylas connector>";
    expect(sh).toContain(`local client="\${app_client_id:-${placeholder}}"`);
    expect(ps1).toContain(`$client = if ($appClientId) { $appClientId } else { '${placeholder}' }`);
    expect(ps1).toContain("$notDone = $script:Failures");
    expect(sh).toContain('graph="${GRAPH_ENDPOINT:-https://graph.microsoft.com}"');
    expect(ps1).toContain("else { 'https://graph.microsoft.com' }");
  });

  it("the banner check fails when a line drifts", () => {
    const drifted = ps1.replace("finishes it by re-running this hook", "finishes it by running this hook");
    expect(drifted).not.toBe(ps1);
    const body = /return @"\n([\s\S]*?)\n"@/.exec(drifted)![1]!;
    expect(renderPowerShellHereString(body).split("\n")).not.toEqual(bashBanner().split("\n"));
    expect(() => renderPowerShellHereString("$appClientId")).toThrow(/unknown to this test/);
  });

  it("shows the banner on both streams", () => {
    expect(sh).toMatch(/^ {2}banner\n {2}banner >&2$/m);
    expect(ps1).toMatch(
      /^ {4}\$banner = Get-Banner\n {4}Write-Host \$banner\n {4}\[Console\]::Error\.WriteLine\(\$banner\)$/m,
    );
  });

  it("stops azd up (exit 1) unless WATCHDOG_GRANTS_PENDING is true, in any case, with the same words", () => {
    const bash =
      /if \[\[ "\$\(lower "\$\{WATCHDOG_GRANTS_PENDING:-\}"\)" == "true" \]\]; then\n\s*say "([^"]+)"\n\s*exit 0\n\s*fi\n\s*say "([^"]+)"\n\s*exit 1\n/.exec(
        sh,
      );
    const powershell =
      /if \("\$env:WATCHDOG_GRANTS_PENDING"\.ToLowerInvariant\(\) -eq 'true'\) \{\n\s*Write-Host "([^"]+)"\n\s*exit 0\n\s*\}\n\s*Write-Host '([^']+)'\n\s*exit 1\n/.exec(
        ps1,
      );
    expect(bash, "the rule in postprovision.sh").not.toBeNull();
    expect(powershell, "the rule in postprovision.ps1").not.toBeNull();
    expect(powershell!.slice(1)).toEqual(bash!.slice(1));
    // Only when something is not done: both test the failure count first.
    expect(sh).toMatch(/if \[\[ \$failures -gt 0 \]\]; then\n {2}banner\n/);
    expect(ps1).toMatch(/if \(\$script:Failures -gt 0\) \{\n {4}\$banner = Get-Banner\n/);
  });

  it("finds the Nylas key where the bash hook does: the environment, .azure/<env>/config.json, azd env", () => {
    // The environment first.
    expect(sh).toMatch(/nylas_key\(\) \{\n\s*if \[\[ -n "\$\{NYLAS_API_KEY:-\}" \]\]; then/);
    expect(ps1).toMatch(
      /function Get-NylasKey \{\n\s*if \(\$env:NYLAS_API_KEY\) \{ return "\$env:NYLAS_API_KEY" \}/,
    );
    // Then the parameter azd stored when it prompted for it.
    expect(sh).toContain('local config=".azure/${AZURE_ENV_NAME:-}/config.json"');
    expect(ps1).toContain('$config = ".azure/$env:AZURE_ENV_NAME/config.json"');
    expect(sh).toContain("?.infra?.parameters?.nylasApiKey");
    expect(ps1).toContain(").infra.parameters.nylasApiKey");
    // Then azd itself.
    expect(sh).toContain("azd env get-value NYLAS_API_KEY");
    expect(ps1).toContain("azd env get-value NYLAS_API_KEY");
    // Only when no client ID was given, and the key is never printed.
    expect(ps1).toContain("$nylasKey = if ($appClientId) { '' } else { Get-NylasKey }");
    expect(ps1).not.toMatch(/Write-Host[^\n]*\$nylasKey/);
  });

  it("asks for the client ID at a terminal with the same question, and says the same when there is none", () => {
    const question = "Application (client) ID of the app registration in your Nylas Microsoft connector";
    expect(sh).toContain(`printf '${question}: '`);
    expect(ps1).toContain(`Read-Host '${question}'`);
    expect(ps1).toContain("-not [Console]::IsInputRedirected -and -not [Console]::IsOutputRedirected");
    const skipped = (text: string) =>
      /(\(b\) skipped: no app registration to own\.[^"']*)["']/.exec(text)?.[1];
    expect(skipped(sh)).toBeDefined();
    expect(skipped(ps1)).toBe(skipped(sh));
  });

  it("reports a step not done on stderr, as the bash hook does", () => {
    expect(sh).toContain("printf 'NOT DONE: %s\\n' \"$*\" >&2");
    expect(ps1).toContain('[Console]::Error.WriteLine("NOT DONE: $Message")');
  });
});

describe("preprovision.ps1 keeps step with preprovision.sh", () => {
  const psPre = read("preprovision.ps1");
  const shPre = read("preprovision.sh");

  it("does nothing unless USE_USER_ASSIGNED_IDENTITY is true, in any case", () => {
    expect(shPre).toMatch(
      /^\[\[ "\$\(lower "\$\{USE_USER_ASSIGNED_IDENTITY:-\}"\)" == "true" \]\] \|\| exit 0$/m,
    );
    expect(psPre).toMatch(
      /^if \("\$env:USE_USER_ASSIGNED_IDENTITY"\.ToLowerInvariant\(\) -ne 'true'\) \{ exit 0 \}$/m,
    );
  });

  it("makes the same az calls: look up, then create, the group and the identity, in azd's subscription", () => {
    const azCalls = (text: string) =>
      [...text.matchAll(/\b(group exists|group create|identity show|identity create)\b/g)].map((m) => m[1]);
    expect(azCalls(psPre)).toEqual(azCalls(shPre));
    expect(azCalls(shPre)).toEqual(["group exists", "group create", "identity show", "identity create"]);
    expect(psPre.match(/@subscription/g)).toHaveLength(4);
    const tags = (text: string) =>
      /secret-watchdog-env=[^"]*"[, ]+["']secret-watchdog-role=([^"']+)/.exec(text)?.[1];
    expect(tags(shPre)).toBe("identity-kept-across-azd-down");
    expect(tags(psPre)).toBe(tags(shPre));
  });
});
