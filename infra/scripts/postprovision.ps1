# azd postprovision hook for Windows: the twin of postprovision.sh (read that file's header
# for what it grants, why both grants are needed, and who can run it). In short:
#   (a) Microsoft Graph application permission Application.ReadWrite.OwnedBy for the
#       Function's managed identity  -> needs Privileged Role Administrator;
#   (b) that identity as an owner of the rotated app registration
#       -> needs Cloud Application Administrator, or being an owner of it already.
# The identity cannot do either for itself ("Application.ReadWrite.OwnedBy isn't sufficient
# to add another owner"). Without those roles it prints a banner (both streams) with the exact
# commands an admin runs, and exits 1 so azd up stops, unless WATCHDOG_GRANTS_PENDING is "true".
# Idempotent; re-run with: azd hooks run postprovision
# Kept in step with postprovision.sh (banner, Nylas key lookup, exit rule) by
# test/infra/hook-parity.test.ts: pwsh is not available where the tests run.
#Requires -Version 7.0
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$OwnedByRoleId = '18a4783c-866b-4cc7-a460-3d5e5662c884' # Application.ReadWrite.OwnedBy
$MsGraphAppId = '00000003-0000-0000-c000-000000000000'
$GuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
$Graph = if ($env:GRAPH_ENDPOINT) { $env:GRAPH_ENDPOINT.TrimEnd('/') } else { 'https://graph.microsoft.com' }
$script:Failures = 0

function Fail([string]$Message) {
    [Console]::Error.WriteLine("NOT DONE: $Message")
    $script:Failures++
}

# Runs az and returns its trimmed stdout; throws when az fails. Bodies go through a file:
# Windows PowerShell mangles quotes in native arguments.
function Invoke-Az([string[]]$Arguments) {
    $out = & az @Arguments
    if ($LASTEXITCODE -ne 0) { throw "az $($Arguments[0..2] -join ' ') failed (exit $LASTEXITCODE)" }
    return (($out | Out-String).Trim())
}

function Invoke-Graph([string]$Method, [string]$Path, [string[]]$Extra = @()) {
    return Invoke-Az (@('rest', '--method', $Method, '--resource', $Graph, '--url', "$Graph/v1.0$Path") + $Extra)
}

function Invoke-GraphPost([string]$Path, [hashtable]$Body) {
    $file = New-TemporaryFile
    try {
        $Body | ConvertTo-Json -Compress | Set-Content -Path $file -Encoding utf8NoBOM
        Invoke-Graph 'post' $Path @('--headers', 'Content-Type=application/json', '--body', "@$file", '--output', 'none') | Out-Null
    } finally {
        Remove-Item $file -ErrorAction SilentlyContinue
    }
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    throw "The Azure CLI (az) is not installed. Install it, run 'az login', then: azd hooks run postprovision"
}
& az account show --output none 2>$null
if ($LASTEXITCODE -ne 0) { throw "az is not signed in. Run 'az login --tenant <your tenant id>', then: azd hooks run postprovision" }

$mi = "$env:AZURE_FUNCTION_APP_PRINCIPAL_ID"
if ($mi -notmatch $GuidPattern) {
    throw "AZURE_FUNCTION_APP_PRINCIPAL_ID is not set (or not a GUID). Run 'azd provision' first."
}
$tenant = Invoke-Az @('account', 'show', '--query', 'tenantId', '--output', 'tsv')
if ($env:AZURE_TENANT_ID -and $env:AZURE_TENANT_ID -ne $tenant) {
    throw "az is signed in to tenant $tenant, but the Function's identity lives in $($env:AZURE_TENANT_ID). Run 'az login --tenant $($env:AZURE_TENANT_ID)', then: azd hooks run postprovision"
}
Write-Host "secret-watchdog postprovision: tenant $tenant, Function identity $mi"

# A new managed identity takes a little while to appear in Graph.
$visible = $false
foreach ($attempt in 1..12) {
    & az rest --method get --resource $Graph --url "$Graph/v1.0/servicePrincipals/$mi`?`$select=id" --output none 2>$null
    if ($LASTEXITCODE -eq 0) { $visible = $true; break }
    Start-Sleep -Seconds 10
}
if (-not $visible) { throw "The identity $mi is not visible in Graph after 2 minutes. Is az signed in to the Function's tenant?" }

# ---- (a) Application.ReadWrite.OwnedBy ----
try {
    # JSON filtered here rather than with --query: on Windows az is az.cmd, and cmd.exe
    # mangles JMESPath's && and | in arguments.
    $graphSp = (Invoke-Graph 'get' "/servicePrincipals(appId='$MsGraphAppId')?`$select=id" | ConvertFrom-Json).id
    $assignments = @((Invoke-Graph 'get' "/servicePrincipals/$mi/appRoleAssignments" | ConvertFrom-Json).value)
    $present = @($assignments | Where-Object { $_.appRoleId -eq $OwnedByRoleId -and $_.resourceId -eq $graphSp }).Count
    if ($present -gt 0) {
        Write-Host '(a) skipped: the identity already holds Microsoft Graph Application.ReadWrite.OwnedBy.'
    } else {
        # The id in the path is the resource (Microsoft Graph); principalId receives the role.
        Invoke-GraphPost "/servicePrincipals/$graphSp/appRoleAssignedTo" @{
            principalId = $mi; resourceId = $graphSp; appRoleId = $OwnedByRoleId
        }
        Write-Host '(a) granted: Microsoft Graph application permission Application.ReadWrite.OwnedBy to the identity.'
    }
} catch {
    Fail "(a) could not grant Application.ReadWrite.OwnedBy ($($_.Exception.Message)); a 403 means the signed-in user is not a Privileged Role Administrator."
}

# ---- (b) owner of the rotated app registration ----
# The rotated registration is the one whose client ID is in the Nylas Microsoft connector.
$appClientId = "$env:NYLAS_AZURE_APP_CLIENT_ID"

# The Nylas API key, wherever azd put it. `azd env set NYLAS_API_KEY` puts it in the azd
# environment, which azd passes to hooks. Typed at azd's prompt for the Bicep parameter, it
# lands only in .azure/<env>/config.json (infra.parameters.nylasApiKey), which azd does not
# pass to hooks: read it there. Printed nowhere; only the connector's client_id is kept.
function Get-NylasKey {
    if ($env:NYLAS_API_KEY) { return "$env:NYLAS_API_KEY" }
    $config = ".azure/$env:AZURE_ENV_NAME/config.json"
    if ($env:AZURE_ENV_NAME -and (Test-Path -LiteralPath $config -PathType Leaf)) {
        # Strict mode makes a missing property throw: any other shape of the file reads as no key.
        try {
            $value = (Get-Content -LiteralPath $config -Raw | ConvertFrom-Json).infra.parameters.nylasApiKey
            if ($value -is [string]) { return $value }
        } catch { }
        return ''
    }
    if (Get-Command azd -ErrorAction SilentlyContinue) {
        $value = (& azd env get-value NYLAS_API_KEY 2>$null | Out-String).Trim()
        if ($LASTEXITCODE -eq 0) { return $value }
    }
    return ''
}

$nylasKey = if ($appClientId) { '' } else { Get-NylasKey }
if (-not $appClientId -and $nylasKey) {
    $nylas = if ($env:NYLAS_API_URI) { $env:NYLAS_API_URI.TrimEnd('/') } else { 'https://api.us.nylas.com' }
    try {
        # The response is never printed: only settings.client_id is kept.
        $connector = Invoke-RestMethod -Uri "$nylas/v3/connectors/microsoft" -TimeoutSec 20 `
            -Headers @{ Authorization = "Bearer $nylasKey" }
        $appClientId = "$($connector.data.settings.client_id)"
    } catch {
        $appClientId = ''
    }
    if ($appClientId) {
        Write-Host "(b) read the app registration's client ID from the Nylas Microsoft connector: $appClientId"
    } else {
        Write-Host "(b) could not read a client ID from the Nylas Microsoft connector at $nylas (no connector yet, wrong region, or the key was refused)."
    }
}
$nylasKey = $null

# Still nothing, and a person at the terminal: ask (azd runs hooks attached to the terminal).
if (-not $appClientId -and -not [Console]::IsInputRedirected -and -not [Console]::IsOutputRedirected) {
    $appClientId = "$(Read-Host 'Application (client) ID of the app registration in your Nylas Microsoft connector')".Trim()
}

if (-not $appClientId) {
    Fail '(b) skipped: no app registration to own. Set its Application (client) ID and re-run: azd env set NYLAS_AZURE_APP_CLIENT_ID <guid> && azd hooks run postprovision (or put NYLAS_API_KEY in the azd env so it is read from the Nylas connector).'
} elseif ($appClientId -notmatch $GuidPattern) {
    Fail "(b) NYLAS_AZURE_APP_CLIENT_ID `"$appClientId`" is not a GUID: use the Application (client) ID from Entra ID > App registrations."
} else {
    try {
        $appObjectId = (Invoke-Graph 'get' "/applications(appId='$appClientId')?`$select=id" | ConvertFrom-Json).id
        $owners = @((Invoke-Graph 'get' "/applications/$appObjectId/owners?`$select=id" | ConvertFrom-Json).value)
        $present = @($owners | Where-Object { $_.id -eq $mi }).Count
        if ($present -gt 0) {
            Write-Host "(b) skipped: the identity already owns app registration $appClientId."
        } else {
            Invoke-GraphPost "/applications/$appObjectId/owners/`$ref" @{ '@odata.id' = "$Graph/v1.0/directoryObjects/$mi" }
            Write-Host "(b) added: the identity is now an owner of app registration $appClientId."
        }
    } catch {
        Fail "(b) could not add the identity as an owner of $appClientId ($($_.Exception.Message)); a 404 means no such app in tenant $tenant, a 403 that the signed-in user is neither an owner of it nor a Cloud Application Administrator."
    }
}

# ---- Key Vault references: resolve now, report any that do not ----
if ($env:AZURE_FUNCTION_APP_ID) {
    $refs = "$($env:AZURE_FUNCTION_APP_ID)/config/configreferences/appsettings"
    & az rest --method post --url "$refs/refresh?api-version=2022-03-01" --output none 2>$null
    if ($LASTEXITCODE -eq 0) {
        $statuses = & az rest --method get --url "$refs`?api-version=2022-03-01" --output json 2>$null
        $unresolved = @()
        if ($LASTEXITCODE -eq 0) {
            $unresolved = @(($statuses | Out-String | ConvertFrom-Json).value |
                Where-Object { $_.properties.status -ne 'Resolved' } |
                ForEach-Object { "$($_.name)`t$($_.properties.status)" })
        }
        if ($unresolved.Count -gt 0) {
            Write-Host 'Key Vault references not resolved yet (role assignments can take a few minutes; re-run this hook):'
            $unresolved | ForEach-Object { Write-Host $_ }
        } else {
            Write-Host 'Key Vault references: all resolved.'
        }
    } else {
        Write-Host 'Key Vault references: could not trigger a refresh (App Service re-reads them within 24 hours).'
    }
}

Write-Host ''
Write-Host "Webhook endpoint: $(if ($env:WEBHOOK_PUBLIC_URL) { $env:WEBHOOK_PUBLIC_URL } else { 'https://<function app>/api/nylas/webhook' })"
Write-Host 'Next: register it with Nylas and store its secret (docs/deploy.md, "Register the Nylas webhook").'

# A half-done deployment must not look done: a banner on both streams, with the exact commands
# (the same text as postprovision.sh prints; the commands are bash, e.g. Azure Cloud Shell).
function Get-Banner {
    $client = if ($appClientId) { $appClientId } else { '<client ID of the app registration in the Nylas connector>' }
    $notDone = $script:Failures
    return @"
================================================================================
  secret-watchdog is NOT ready: $notDone step(s) not done.
  Until they are, every rotation fails with 403 and the secret WILL expire.
  An Entra admin (Privileged Role Administrator + Cloud Application Administrator)
  finishes it by re-running this hook:   azd hooks run postprovision
  or by hand:
    sp=`$(az rest --method get --url "$Graph/v1.0/servicePrincipals(appId='$MsGraphAppId')?\`$select=id" --query id -o tsv)
    az rest --method post --url "$Graph/v1.0/servicePrincipals/`$sp/appRoleAssignedTo" \
      --body '{"principalId":"$mi","resourceId":"'`$sp'","appRoleId":"$OwnedByRoleId"}'
    app=`$(az rest --method get --url "$Graph/v1.0/applications(appId='$client')?\`$select=id" --query id -o tsv)
    az rest --method post --url "$Graph/v1.0/applications/`$app/owners/\`$ref" \
      --body '{"@odata.id":"$Graph/v1.0/directoryObjects/$mi"}'
  Re-running the hook afterwards confirms both (it skips what is done).
================================================================================
"@
}

if ($script:Failures -gt 0) {
    $banner = Get-Banner
    Write-Host $banner
    [Console]::Error.WriteLine($banner)
    if ("$env:WATCHDOG_GRANTS_PENDING".ToLowerInvariant() -eq 'true') {
        Write-Host "WATCHDOG_GRANTS_PENDING=true: azd up goes on; the watchdog's health stays degraded until an admin finishes."
        exit 0
    }
    Write-Host 'azd up stops here. To deploy anyway and finish later: azd env set WATCHDOG_GRANTS_PENDING true && azd up'
    exit 1
}
Write-Host "Done: the identity can rotate the secrets of app registration $appClientId, and nothing else."
