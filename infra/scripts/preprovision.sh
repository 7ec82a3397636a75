#!/usr/bin/env bash
# azd preprovision hook (azure.yaml). Does something only after
#   azd env set USE_USER_ASSIGNED_IDENTITY true
# Then it makes sure the user-assigned identity the Function runs as exists:
#   resource group  rg-<env>-identity
#   identity        id-watchdog-<env>
# the names infra/main.bicep reads it by (an `existing` resource: no value flows back from here).
#
# Why a group of its own, made here and not in Bicep: `azd down` deletes every resource group
# the deployment deployed anything into. infra/ deploys nothing into this one, so `azd down`
# leaves it, and the identity keeps what the postprovision hook granted it (the Microsoft Graph
# permission and the ownership of the rotated app registration). The next `azd up` then needs
# no Entra admin: postprovision finds both in place and skips them.
# To remove the identity and its grants: az group delete --name rg-<env>-identity
#
# Idempotent: it reads before it writes and never replaces a group or identity that exists.
#
# Inputs (azd passes its environment to hooks):
#   USE_USER_ASSIGNED_IDENTITY  "true" (any case): do the above; anything else: nothing at all
#   AZURE_ENV_NAME              the azd environment's name
#   AZURE_LOCATION              region of the group, when it has to be created
#   AZURE_SUBSCRIPTION_ID       the subscription azd deploys to (az's default one otherwise)
# Written for bash 3.2 too (the bash macOS ships).
set -euo pipefail

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
[[ "$(lower "${USE_USER_ASSIGNED_IDENTITY:-}")" == "true" ]] || exit 0

say() { printf '%s\n' "$*"; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

command -v az >/dev/null 2>&1 ||
  die "the Azure CLI (az) is not installed. Install it (https://learn.microsoft.com/cli/azure/install-azure-cli), run 'az login', then: azd provision"
az account show --output none 2>/dev/null ||
  die "az is not signed in. Run 'az login --tenant <your tenant id>', then: azd provision"

env_name="${AZURE_ENV_NAME:-}"
[[ -n "$env_name" ]] || die "AZURE_ENV_NAME is not set: run this hook through azd (azd provision, or azd hooks run preprovision)."
group="rg-${env_name}-identity"
name="id-watchdog-${env_name}"
# az's default subscription need not be the one azd deploys to.
subscription=()
[[ -n "${AZURE_SUBSCRIPTION_ID:-}" ]] && subscription=(--subscription "$AZURE_SUBSCRIPTION_ID")
# Not `azd-env-name`: azd looks resource groups up by that tag, and this one is not azd's.
tags=("secret-watchdog-env=${env_name}" "secret-watchdog-role=identity-kept-across-azd-down")

# "${subscription[@]}" alone is an unbound variable in bash < 4.4 when the array is empty.
in_subscription() { az "$@" ${subscription[@]+"${subscription[@]}"}; }

# Checked on its own: a failed look-up (another tenant, a subscription az cannot see) must stop
# the hook, not read as "no such group".
exists="$(in_subscription group exists --name "$group" --output tsv)" ||
  die "could not look up resource group ${group} in subscription ${AZURE_SUBSCRIPTION_ID:-<the az default>} (see the az error above). Is az signed in to that subscription's tenant? az login --tenant <tenant id>"
if [[ "$exists" == "true" ]]; then
  say "Resource group ${group}: exists, kept."
else
  [[ -n "${AZURE_LOCATION:-}" ]] ||
    die "AZURE_LOCATION is not set, so ${group} cannot be created. Run: azd env set AZURE_LOCATION <region>, then: azd provision"
  in_subscription group create --name "$group" --location "$AZURE_LOCATION" --tags "${tags[@]}" --output none ||
    die "could not create resource group ${group} (see the az error above; creating one needs Contributor on the subscription)."
  say "Resource group ${group}: created in ${AZURE_LOCATION}."
fi

if principal="$(in_subscription identity show --name "$name" --resource-group "$group" \
  --query principalId --output tsv 2>/dev/null)" && [[ -n "$principal" ]]; then
  say "Identity ${name}: exists, kept (principal id ${principal}); whatever it was granted is still in place."
else
  principal="$(in_subscription identity create --name "$name" --resource-group "$group" --tags "${tags[@]}" \
    --query principalId --output tsv)" ||
    die "could not create the managed identity ${name} in ${group} (see the az error above; it needs Managed Identity Contributor or Contributor on the group)."
  say "Identity ${name}: created (principal id ${principal}). The postprovision hook grants it the Graph permission and app ownership once."
fi
say "The Function runs as ${name}; azd down leaves it. Remove it yourself: az group delete --name ${group}"
