// secret-watchdog on Azure Functions (Flex Consumption), for `azd up`.
// Resource layout and the reasoning behind it: docs/deploy.md.
// Every contract setting (../../shared/CONTRACT.md, lib/config.ts SETTING_NAMES) is either an
// app setting in app/app-settings.bicep or listed there as deliberately not set;
// test/infra/settings-sync.test.ts keeps the three in step.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the resource names.')
param environmentName string

@minLength(1)
@description('Region of every resource. It must offer Flex Consumption: az functionapp list-flexconsumption-locations')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the person running azd (azd fills AZURE_PRINCIPAL_ID). Gets Key Vault Secrets Officer so secrets can be rotated with az keyvault secret set. Empty: no grant.')
param principalId string = ''

@allowed([
  'identity'
  'connectionString'
])
@description('How the Functions host and the state store reach storage. identity: AzureWebJobsStorage__accountName + managed identity, shared keys disabled (the state store must support it). connectionString: AzureWebJobsStorage = Key Vault reference to a key-based connection string.')
param stateStorageAuth string = 'identity'

// A string, like the numbers below: an unset azd variable must fall back to the default.
@description('USE_USER_ASSIGNED_IDENTITY: \'true\' = the Function runs as the user-assigned identity id-watchdog-<env> in rg-<env>-identity, which the preprovision hook creates and nothing here deploys into, so azd down leaves it and its Graph grants alone. Anything else: a system-assigned identity, deleted (grants and all) by azd down.')
param useUserAssignedIdentity string = 'false'

// ---- Contract settings. Each parameter is named after its setting in camelCase and is
// ---- mapped to an azd environment variable of the setting's own name (main.parameters.json),
// ---- so `azd env set ROTATE_BEFORE_DAYS 45 && azd provision` changes it. Defaults equal
// ---- DEFAULTS in lib/config.ts. Numbers are strings: app settings are strings, and an
// ---- unset azd variable must fall back to these defaults, not fail a type check.

@secure()
@minLength(1)
@description('NYLAS_API_KEY: Nylas v3 API key (azd prompts for it; stored in Key Vault).')
param nylasApiKey string

@description('NYLAS_API_URI: https://api.eu.nylas.com for EU applications.')
param nylasApiUri string = 'https://api.us.nylas.com'

@secure()
@description('NYLAS_WEBHOOK_SECRET: the Nylas webhook\'s secret. Empty on the first deployment (the webhook is registered after the endpoint exists); the endpoint refuses every POST until it is set.')
param nylasWebhookSecret string = ''

@description('WEBHOOK_PUBLIC_URL: only when a custom domain or proxy fronts the app. Empty: https://<function app host>/api/nylas/webhook.')
param webhookPublicUrl string = ''

@description('AZURE_AUTHORITY_HOST: Entra authority (sovereign clouds).')
param azureAuthorityHost string = 'https://login.microsoftonline.com'

@description('GRAPH_ENDPOINT: Microsoft Graph root (sovereign clouds).')
param graphEndpoint string = 'https://graph.microsoft.com'

@description('WATCH_APP_IDS: more app registrations (appIds, comma-separated) to watch, never rotated; * = every app the identity can read.')
param watchAppIds string = ''

@allowed([
  'auto'
  'off'
])
@description('ROTATION: off = watch and alert only.')
param rotation string = 'auto'

@description('ROTATE_BEFORE_DAYS')
param rotateBeforeDays string = '60'

@description('SECRET_LIFETIME_DAYS')
param secretLifetimeDays string = '180'

@description('RETIRE_GRACE_HOURS')
param retireGraceHours string = '24'

@description('RETIRE_QUIET_HOURS')
param retireQuietHours string = '72'

@description('REAUTH_DEFER_HOURS')
param reauthDeferHours string = '72'

@description('SWITCH_MARGIN_MINUTES')
param switchMarginMinutes string = '60'

@description('NYLAS_CLIENT_ID: Nylas application id (with REAUTH_REDIRECT_URI: re-authentication links).')
param nylasClientId string = ''

@description('REAUTH_REDIRECT_URI: a callback registered with the Nylas application.')
param reauthRedirectUri string = ''

@description('ALERT_BEFORE_DAYS')
param alertBeforeDays string = '14'

@description('PROPAGATION_TIMEOUT_SECONDS')
param propagationTimeoutSeconds string = '240'

@secure()
@description('ALERT_WEBHOOK_URL: generic JSON alert webhook (may carry a token, so it is kept in Key Vault).')
param alertWebhookUrl string = ''

@secure()
@description('ALERT_WEBHOOK_SECRET: HMAC key for X-Watchdog-Signature.')
param alertWebhookSecret string = ''

@secure()
@description('SLACK_WEBHOOK_URL: Slack incoming webhook (the URL is the credential).')
param slackWebhookUrl string = ''

@secure()
@description('TEAMS_WEBHOOK_URL: Teams Workflows webhook (the URL is the credential).')
param teamsWebhookUrl string = ''

@secure()
@description('PAGERDUTY_ROUTING_KEY: Events API v2 integration key.')
param pagerdutyRoutingKey string = ''

@description('PAGERDUTY_EVENTS_URL')
param pagerdutyEventsUrl string = 'https://events.pagerduty.com/v2/enqueue'

@description('ALERT_REPEAT_HOURS')
param alertRepeatHours string = '24'

@description('PAGERDUTY_MIN_SEVERITY')
param pagerdutyMinSeverity string = 'critical'

@description('WATCHDOG_SCHEDULE: NCRONTAB, 6 fields (seconds first).')
param watchdogSchedule string = '0 0 */6 * * *'

@description('GRANT_SWEEP_SCHEDULE: NCRONTAB, 6 fields (seconds first).')
param grantSweepSchedule string = '0 */30 * * * *'

@description('MONITOR_ALERT_EMAIL: e-mail for Azure Monitor alerts on the watchdog itself (failed or missing runs).')
param monitorAlertEmail string = ''

@description('MONITOR_ALERT_WEBHOOK_URL: webhook for the same alerts (Azure Monitor common alert schema).')
param monitorAlertWebhookUrl string = ''

@description('MONITOR_WATCHDOG_STALE_AFTER: ISO 8601, twice WATCHDOG_SCHEDULE\'s interval.')
param monitorWatchdogStaleAfter string = 'PT12H'

@description('MONITOR_SWEEP_STALE_AFTER: ISO 8601, twice GRANT_SWEEP_SCHEDULE\'s interval.')
param monitorSweepStaleAfter string = 'PT1H'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-watchdog-${resourceToken}'
var userAssigned = toLower(useUserAssignedIdentity) == 'true'

// Created by infra/scripts/preprovision.sh (.ps1), never by this template: azd down deletes
// every resource group the deployment deployed anything into (a module, a role assignment),
// so this one must only ever be read. Fixed names: nothing has to flow back from the hook.
resource keptIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = if (userAssigned) {
  name: 'id-watchdog-${environmentName}'
  scope: resourceGroup('rg-${environmentName}-identity')
}
var userAssignedIdentityId = userAssigned ? keptIdentity.id : ''
var userAssignedIdentityClientId = userAssigned ? keptIdentity.properties.clientId : ''

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    namePrefix: 'watchdog-${resourceToken}'
    alertEmail: monitorAlertEmail
    alertWebhookUrl: monitorAlertWebhookUrl
    watchdogStaleAfter: monitorWatchdogStaleAfter
    sweepStaleAfter: monitorSweepStaleAfter
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'st${resourceToken}'
    deploymentContainerName: 'app-package'
    allowSharedKeyAccess: stateStorageAuth == 'connectionString'
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    location: location
    tags: tags
    name: functionAppName
    planName: 'plan-${resourceToken}'
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    userAssignedIdentityId: userAssignedIdentityId
  }
}

// Who holds the Azure roles and, through the postprovision hook, the Graph grants.
var functionPrincipalId = userAssigned ? keptIdentity.properties.principalId : functionApp.outputs.principalId

// Key Vault secret names are the setting names with '_' -> '-' (Key Vault allows only
// letters, digits and dashes). Empty values are not written.
module keyVault 'app/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'kv-${resourceToken}'
    secrets: {
      'NYLAS-API-KEY': nylasApiKey
      'NYLAS-WEBHOOK-SECRET': nylasWebhookSecret
      'ALERT-WEBHOOK-URL': alertWebhookUrl
      'ALERT-WEBHOOK-SECRET': alertWebhookSecret
      'SLACK-WEBHOOK-URL': slackWebhookUrl
      'TEAMS-WEBHOOK-URL': teamsWebhookUrl
      'PAGERDUTY-ROUTING-KEY': pagerdutyRoutingKey
    }
    storageAccountName: storage.outputs.name
    storeStorageConnectionString: stateStorageAuth == 'connectionString'
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    functionPrincipalId: functionPrincipalId
    deployerPrincipalId: principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module appSettings 'app/app-settings.bicep' = {
  name: 'app-settings'
  scope: rg
  // Key Vault references and identity-based storage only resolve once the identity holds its roles.
  dependsOn: [
    rbac
  ]
  params: {
    functionAppName: functionApp.outputs.name
    keyVaultUri: keyVault.outputs.uri
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    stateStorageAuth: stateStorageAuth
    userAssignedIdentityClientId: userAssignedIdentityClientId
    hasNylasWebhookSecret: !empty(nylasWebhookSecret)
    hasAlertWebhookUrl: !empty(alertWebhookUrl)
    hasAlertWebhookSecret: !empty(alertWebhookSecret)
    hasSlackWebhookUrl: !empty(slackWebhookUrl)
    hasTeamsWebhookUrl: !empty(teamsWebhookUrl)
    hasPagerdutyRoutingKey: !empty(pagerdutyRoutingKey)
    nylasApiUri: nylasApiUri
    webhookPublicUrl: webhookPublicUrl
    azureAuthorityHost: azureAuthorityHost
    graphEndpoint: graphEndpoint
    watchAppIds: watchAppIds
    rotation: rotation
    rotateBeforeDays: rotateBeforeDays
    secretLifetimeDays: secretLifetimeDays
    retireGraceHours: retireGraceHours
    retireQuietHours: retireQuietHours
    reauthDeferHours: reauthDeferHours
    switchMarginMinutes: switchMarginMinutes
    nylasClientId: nylasClientId
    reauthRedirectUri: reauthRedirectUri
    alertBeforeDays: alertBeforeDays
    propagationTimeoutSeconds: propagationTimeoutSeconds
    pagerdutyEventsUrl: pagerdutyEventsUrl
    alertRepeatHours: alertRepeatHours
    pagerdutyMinSeverity: pagerdutyMinSeverity
    watchdogSchedule: watchdogSchedule
    grantSweepSchedule: grantSweepSchedule
  }
}

// azd writes these into .azure/<env>/.env; the postprovision hook and docs/deploy.md use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_ID string = functionApp.outputs.id
output AZURE_FUNCTION_APP_PRINCIPAL_ID string = functionPrincipalId
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = 'https://${functionApp.outputs.defaultHostName}'
output WEBHOOK_PUBLIC_URL string = appSettings.outputs.webhookPublicUrl
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output STATE_STORAGE_AUTH string = stateStorageAuth
