#!/usr/bin/env bash
# azd postprovision hook (azure.yaml). Gives the Function's managed identity the one directory
# permission secret-watchdog needs, on the one app registration it rotates:
#
#   (a) the Microsoft Graph *application* permission Application.ReadWrite.OwnedBy
#       (app role 18a4783c-866b-4cc7-a460-3d5e5662c884), which lets an app manage only the
#       applications it owns ("It cannot update any apps that it is not an owner of");
#   (b) ownership of the app registration behind the Nylas Microsoft connector.
#
# Both are needed: ownership alone gives an app-only token no directory access, and OwnedBy
# alone reaches no application. Together they are far narrower than Application.ReadWrite.All.
#
# Who can run it: ARM (Bicep) cannot make directory grants, and the identity cannot grant
# them to itself — Graph says "Application.ReadWrite.OwnedBy isn't sufficient to add another
# owner". So a human signed in with `az login` does it once:
#   (a) granting a Microsoft Graph app role needs Privileged Role Administrator (or Global
#       Administrator);
#   (b) adding an owner needs Cloud Application Administrator / Application Administrator, or
#       being an owner of that app registration already.
# Without those roles it prints a banner with the exact commands an admin runs, and exits 1:
# azd up stops there (azure.yaml sets continueOnError: false), because a watchdog deployed
# without them fails every rotation with 403 while `azd up` reports success. To deploy anyway
# and let an admin finish later: azd env set WATCHDOG_GRANTS_PENDING true (the banner stays).
# Re-run any time: azd hooks run postprovision
#
# Idempotent: it reads before it writes and skips what is already in place.
#
# Inputs (azd passes its environment to hooks):
#   AZURE_FUNCTION_APP_PRINCIPAL_ID  object id of the Function's identity (a main.bicep output)
#   AZURE_FUNCTION_APP_ID            the Function App's resource id (a main.bicep output)
#   NYLAS_AZURE_APP_CLIENT_ID        Application (client) ID of the rotated app registration;
#                                    if unset, read from the Nylas Microsoft connector with the
#                                    Nylas API key, found wherever azd keeps it (see nylas_key)
#   WATCHDOG_GRANTS_PENDING          "true": report what is missing but let azd up go on
#   GRAPH_ENDPOINT                   Graph root, default https://graph.microsoft.com
# Written for bash 3.2 too (the bash macOS ships): no ${x,,}, no mapfile, no associative arrays.
set -euo pipefail

readonly OWNED_BY_ROLE_ID="18a4783c-866b-4cc7-a460-3d5e5662c884" # Application.ReadWrite.OwnedBy
readonly MS_GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"
readonly GUID_RE='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

graph="${GRAPH_ENDPOINT:-https://graph.microsoft.com}"
graph="${graph%/}"
failures=0

say() { printf '%s\n' "$*"; }
fail() {
  printf 'NOT DONE: %s\n' "$*" >&2
  failures=$((failures + 1))
}
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

# az rest against Graph. The signed-in user's delegated rights apply.
graph_rest() {
  local method="$1" path="$2"
  shift 2
  az rest --method "$method" --resource "$graph" --url "${graph}/v1.0${path}" "$@"
}

command -v az >/dev/null 2>&1 ||
  die "the Azure CLI (az) is not installed. Install it (https://learn.microsoft.com/cli/azure/install-azure-cli), run 'az login', then: azd hooks run postprovision"
az account show --output none 2>/dev/null ||
  die "az is not signed in. Run 'az login --tenant <your tenant id>', then: azd hooks run postprovision"

mi="${AZURE_FUNCTION_APP_PRINCIPAL_ID:-}"
[[ "$mi" =~ $GUID_RE ]] ||
  die "AZURE_FUNCTION_APP_PRINCIPAL_ID is not set (or not a GUID). Run 'azd provision' first: it stores the Function identity's id in the azd environment."

tenant="$(az account show --query tenantId --output tsv)"
lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
if [[ -n "${AZURE_TENANT_ID:-}" && "$(lower "$AZURE_TENANT_ID")" != "$(lower "$tenant")" ]]; then
  die "az is signed in to tenant ${tenant}, but the Function's identity lives in ${AZURE_TENANT_ID}. Run 'az login --tenant ${AZURE_TENANT_ID}', then: azd hooks run postprovision"
fi
say "secret-watchdog postprovision: tenant ${tenant}, Function identity ${mi}"

# A new managed identity takes a little while to appear in Graph.
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
  if graph_rest get "/servicePrincipals/${mi}?\$select=id" --output none 2>/dev/null; then
    break
  fi
  [[ $attempt -eq 12 ]] && die "the identity ${mi} is not visible in Graph after 2 minutes. Is az signed in to the Function's tenant? (az login --tenant <tenant>)"
  sleep 10
done

# ---- (a) Application.ReadWrite.OwnedBy for the identity ---------------------------------
grant_owned_by() {
  local graph_sp present body
  graph_sp="$(graph_rest get "/servicePrincipals(appId='${MS_GRAPH_APP_ID}')?\$select=id" --query id --output tsv)" || return 1
  present="$(graph_rest get "/servicePrincipals/${mi}/appRoleAssignments" \
    --query "length(value[?appRoleId=='${OWNED_BY_ROLE_ID}' && resourceId=='${graph_sp}'])" --output tsv)" || return 1
  if [[ "$present" != "0" ]]; then
    say "(a) skipped: the identity already holds Microsoft Graph Application.ReadWrite.OwnedBy."
    return 0
  fi
  # POST /servicePrincipals/{resource}/appRoleAssignedTo: the id in the path is the *resource*
  # (Microsoft Graph's service principal); principalId is the identity receiving the role.
  body="$(printf '{"principalId":"%s","resourceId":"%s","appRoleId":"%s"}' "$mi" "$graph_sp" "$OWNED_BY_ROLE_ID")"
  graph_rest post "/servicePrincipals/${graph_sp}/appRoleAssignedTo" \
    --headers "Content-Type=application/json" --body "$body" --output none || return 1
  say "(a) granted: Microsoft Graph application permission Application.ReadWrite.OwnedBy to the identity."
}

if ! grant_owned_by; then
  fail "(a) could not grant Application.ReadWrite.OwnedBy (see the az error above; a 403 means the signed-in user is not a Privileged Role Administrator). An admin can run this script: azd hooks run postprovision"
fi

# ---- (b) the identity as an owner of the rotated app registration -----------------------
# The rotated registration is the one whose client ID is in the Nylas Microsoft connector.
app_client_id="${NYLAS_AZURE_APP_CLIENT_ID:-}"

# The Nylas API key, wherever azd put it. `azd env set NYLAS_API_KEY` puts it in the azd
# environment, which azd passes to hooks. Typed at azd's prompt for the Bicep parameter, it
# lands only in .azure/<env>/config.json (infra.parameters.nylasApiKey), which azd does not
# pass to hooks: read it there. Printed nowhere; only the connector's client_id is kept.
nylas_key() {
  if [[ -n "${NYLAS_API_KEY:-}" ]]; then
    printf '%s' "$NYLAS_API_KEY"
    return 0
  fi
  local config=".azure/${AZURE_ENV_NAME:-}/config.json"
  if [[ -n "${AZURE_ENV_NAME:-}" && -f "$config" ]] && command -v node >/dev/null 2>&1; then
    node -e 'try{const v=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))?.infra?.parameters?.nylasApiKey;if(typeof v==="string")process.stdout.write(v)}catch{}' "$config"
    return 0
  fi
  if command -v azd >/dev/null 2>&1; then
    azd env get-value NYLAS_API_KEY 2>/dev/null || true
  fi
}

key_found=""
if [[ -z "$app_client_id" ]]; then
  NYLAS_API_KEY="$(nylas_key)"
  [[ -n "$NYLAS_API_KEY" ]] && key_found=1
fi
if [[ -z "$app_client_id" && -n "$key_found" ]]; then
  if command -v curl >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    nylas="${NYLAS_API_URI:-https://api.us.nylas.com}"
    # The key goes through a process-substitution header file, never onto a command line
    # (ps would show it). Only settings.client_id is kept; the response is never printed.
    app_client_id="$(
      curl --silent --show-error --fail --max-time 20 \
        --header @<(printf 'Authorization: Bearer %s\n' "$NYLAS_API_KEY") \
        "${nylas%/}/v3/connectors/microsoft" 2>/dev/null |
        node -e 'let s="";process.stdin.setEncoding("utf8");process.stdin.on("data",(c)=>{s+=c}).on("end",()=>{try{const id=JSON.parse(s)?.data?.settings?.client_id;if(typeof id==="string")process.stdout.write(id)}catch{}})' ||
        true
    )"
    if [[ -n "$app_client_id" ]]; then
      say "(b) read the app registration's client ID from the Nylas Microsoft connector: ${app_client_id}"
    else
      say "(b) could not read a client ID from the Nylas Microsoft connector at ${nylas} (no connector yet, wrong region, or the key was refused)."
    fi
  else
    say "(b) cannot ask the Nylas connector for the client ID: curl and node are needed."
  fi
fi

add_owner() {
  local app_id present
  app_id="$(graph_rest get "/applications(appId='${app_client_id}')?\$select=id" --query id --output tsv)" || return 1
  present="$(graph_rest get "/applications/${app_id}/owners?\$select=id" \
    --query "length(value[?id=='${mi}'])" --output tsv)" || return 1
  if [[ "$present" != "0" ]]; then
    say "(b) skipped: the identity already owns app registration ${app_client_id}."
    return 0
  fi
  graph_rest post "/applications/${app_id}/owners/\$ref" \
    --headers "Content-Type=application/json" \
    --body "{\"@odata.id\":\"${graph}/v1.0/directoryObjects/${mi}\"}" --output none || return 1
  say "(b) added: the identity is now an owner of app registration ${app_client_id}."
}

# Still nothing, and a person at the terminal: ask (azd runs hooks attached to the terminal).
if [[ -z "$app_client_id" && -t 0 && -t 1 ]]; then
  printf 'Application (client) ID of the app registration in your Nylas Microsoft connector: '
  read -r app_client_id || app_client_id=""
fi

if [[ -z "$app_client_id" ]]; then
  fail "(b) skipped: no app registration to own. Set its Application (client) ID and re-run: azd env set NYLAS_AZURE_APP_CLIENT_ID <guid> && azd hooks run postprovision (or put NYLAS_API_KEY in the azd env so it is read from the Nylas connector)."
elif ! [[ "$app_client_id" =~ $GUID_RE ]]; then
  fail "(b) NYLAS_AZURE_APP_CLIENT_ID \"${app_client_id}\" is not a GUID: use the Application (client) ID from Entra ID > App registrations."
elif ! add_owner; then
  fail "(b) could not add the identity as an owner of ${app_client_id} (see the az error above; a 404 means no such app in tenant ${tenant}, a 403 that the signed-in user is neither an owner of it nor a Cloud Application Administrator)."
fi

# ---- Key Vault references ---------------------------------------------------------------
# The identity's Key Vault role was granted moments ago; make App Service resolve the
# references now rather than at its next 24-hour refresh, and show any that do not resolve.
if [[ -n "${AZURE_FUNCTION_APP_ID:-}" ]]; then
  refs="${AZURE_FUNCTION_APP_ID}/config/configreferences/appsettings"
  if az rest --method post --url "${refs}/refresh?api-version=2022-03-01" --output none 2>/dev/null; then
    unresolved="$(az rest --method get --url "${refs}?api-version=2022-03-01" \
      --query "value[?properties.status!='Resolved'].[name, properties.status]" --output tsv 2>/dev/null || true)"
    if [[ -n "$unresolved" ]]; then
      say "Key Vault references not resolved yet (role assignments can take a few minutes; re-run this hook):"
      say "$unresolved"
    else
      say "Key Vault references: all resolved."
    fi
  else
    say "Key Vault references: could not trigger a refresh (App Service re-reads them within 24 hours)."
  fi
fi

say ""
say "Webhook endpoint: ${WEBHOOK_PUBLIC_URL:-https://<function app>/api/nylas/webhook}"
say "Next: register it with Nylas and store its secret (docs/deploy.md, \"Register the Nylas webhook\")."

# A half-done deployment must not look done: a banner on both streams, with the exact commands.
banner() {
  local client="${app_client_id:-<client ID of the app registration in the Nylas connector>}"
  cat <<BANNER
================================================================================
  secret-watchdog is NOT ready: ${failures} step(s) not done.
  Until they are, every rotation fails with 403 and the secret WILL expire.
  An Entra admin (Privileged Role Administrator + Cloud Application Administrator)
  finishes it by re-running this hook:   azd hooks run postprovision
  or by hand:
    sp=\$(az rest --method get --url "${graph}/v1.0/servicePrincipals(appId='${MS_GRAPH_APP_ID}')?\\\$select=id" --query id -o tsv)
    az rest --method post --url "${graph}/v1.0/servicePrincipals/\$sp/appRoleAssignedTo" \\
      --body '{"principalId":"${mi}","resourceId":"'\$sp'","appRoleId":"${OWNED_BY_ROLE_ID}"}'
    app=\$(az rest --method get --url "${graph}/v1.0/applications(appId='${client}')?\\\$select=id" --query id -o tsv)
    az rest --method post --url "${graph}/v1.0/applications/\$app/owners/\\\$ref" \\
      --body '{"@odata.id":"${graph}/v1.0/directoryObjects/${mi}"}'
  Re-running the hook afterwards confirms both (it skips what is done).
================================================================================
BANNER
}

if [[ $failures -gt 0 ]]; then
  banner
  banner >&2
  if [[ "$(lower "${WATCHDOG_GRANTS_PENDING:-}")" == "true" ]]; then
    say "WATCHDOG_GRANTS_PENDING=true: azd up goes on; the watchdog's health stays degraded until an admin finishes."
    exit 0
  fi
  say "azd up stops here. To deploy anyway and finish later: azd env set WATCHDOG_GRANTS_PENDING true && azd up"
  exit 1
fi
say "Done: the identity can rotate the secrets of app registration ${app_client_id}, and nothing else."
