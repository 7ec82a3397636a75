# azd preprovision hook for Windows: the twin of preprovision.sh (read that file's header for
# why the identity lives in a resource group of its own). Does something only after
#   azd env set USE_USER_ASSIGNED_IDENTITY true
# Then it makes sure rg-<env>-identity and the user-assigned identity id-watchdog-<env> in it
# exist: the names infra/main.bicep reads them by. infra/ deploys nothing into that group, so
# azd down leaves the identity and its Graph grants alone.
# To remove them: az group delete --name rg-<env>-identity
# Idempotent: it reads before it writes and never replaces a group or identity that exists.
#Requires -Version 7.0
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if ("$env:USE_USER_ASSIGNED_IDENTITY".ToLowerInvariant() -ne 'true') { exit 0 }

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    throw "The Azure CLI (az) is not installed. Install it, run 'az login', then: azd provision"
}
& az account show --output none 2>$null
if ($LASTEXITCODE -ne 0) { throw "az is not signed in. Run 'az login --tenant <your tenant id>', then: azd provision" }

$envName = "$env:AZURE_ENV_NAME"
if (-not $envName) { throw 'AZURE_ENV_NAME is not set: run this hook through azd (azd provision, or azd hooks run preprovision).' }
$group = "rg-$envName-identity"
$name = "id-watchdog-$envName"
# az's default subscription need not be the one azd deploys to.
$subscription = if ($env:AZURE_SUBSCRIPTION_ID) { @('--subscription', $env:AZURE_SUBSCRIPTION_ID) } else { @() }
# Not `azd-env-name`: azd looks resource groups up by that tag, and this one is not azd's.
$tags = @("secret-watchdog-env=$envName", 'secret-watchdog-role=identity-kept-across-azd-down')

$exists = (& az group exists --name $group @subscription --output tsv | Out-String).Trim()
if ($LASTEXITCODE -ne 0) { throw "Could not look up resource group $group (see the az error above)." }
if ($exists -eq 'true') {
    Write-Host "Resource group ${group}: exists, kept."
} else {
    if (-not $env:AZURE_LOCATION) {
        throw "AZURE_LOCATION is not set, so $group cannot be created. Run: azd env set AZURE_LOCATION <region>, then: azd provision"
    }
    & az group create --name $group --location $env:AZURE_LOCATION --tags @tags @subscription --output none
    if ($LASTEXITCODE -ne 0) {
        throw "Could not create resource group $group (see the az error above; creating one needs Contributor on the subscription)."
    }
    Write-Host "Resource group ${group}: created in $($env:AZURE_LOCATION)."
}

$principal = (& az identity show --name $name --resource-group $group @subscription --query principalId --output tsv 2>$null | Out-String).Trim()
if ($LASTEXITCODE -eq 0 -and $principal) {
    Write-Host "Identity ${name}: exists, kept (principal id $principal); whatever it was granted is still in place."
} else {
    $principal = (& az identity create --name $name --resource-group $group --tags @tags @subscription --query principalId --output tsv | Out-String).Trim()
    if ($LASTEXITCODE -ne 0) {
        throw "Could not create the managed identity $name in $group (see the az error above; it needs Managed Identity Contributor or Contributor on the group)."
    }
    Write-Host "Identity ${name}: created (principal id $principal). The postprovision hook grants it the Graph permission and app ownership once."
}
Write-Host "The Function runs as $name; azd down leaves it. Remove it yourself: az group delete --name $group"
