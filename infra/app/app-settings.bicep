// The Function App's app settings: the environment `loadConfig` reads (lib/config.ts).
//
// Rules, checked by test/infra/settings-sync.test.ts:
//   - every contract setting (lib/config.ts SETTING_NAMES) is either set below or listed in
//     `settingsNotSet` with its reason, never both, unless the entry names (`setWhen`) the
//     condition of the one block below that sets it: then it is not set otherwise, and why;
//   - the only other settings are the platform's (APPLICATIONINSIGHTS_*, AzureWebJobsStorage__*);
//   - every secret-bearing setting is a Key Vault reference to the secret named after it
//     ('_' -> '-'), never a value;
//   - an optional setting is left out when it has no value: an unresolvable Key Vault
//     reference would reach the app as the literal text "@Microsoft.KeyVault(...)".
//
// Changing a value: `azd env set <SETTING> <value> && azd provision`. Edits made in the portal
// are overwritten by the next provision (this resource replaces the whole set).
param functionAppName string
@description('Ends with a slash: https://<vault>.vault.azure.net/')
param keyVaultUri string
param storageAccountName string
param applicationInsightsName string
@allowed([
  'identity'
  'connectionString'
])
param stateStorageAuth string
@description('Client id of the user-assigned identity the app runs as; empty: its system-assigned identity.')
param userAssignedIdentityClientId string = ''

// Which optional secrets main.bicep wrote to Key Vault.
param hasNylasWebhookSecret bool
param hasAlertWebhookUrl bool
param hasAlertWebhookSecret bool
param hasSlackWebhookUrl bool
param hasTeamsWebhookUrl bool
param hasPagerdutyRoutingKey bool

// Plain settings; defaults live in main.bicep (the parameters azd sees).
param nylasApiUri string
param webhookPublicUrl string
param azureAuthorityHost string
param graphEndpoint string
param watchAppIds string
param rotation string
param rotateBeforeDays string
param secretLifetimeDays string
param retireGraceHours string
param retireQuietHours string
param reauthDeferHours string
param switchMarginMinutes string
param nylasClientId string
param reauthRedirectUri string
param alertBeforeDays string
param propagationTimeoutSeconds string
param pagerdutyEventsUrl string
param alertRepeatHours string
param pagerdutyMinSeverity string
param watchdogSchedule string
param grantSweepSchedule string

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var useUserAssignedIdentity = !empty(userAssignedIdentityClientId)

// Contract settings deliberately NOT set in Azure, each with its reason; with `setWhen`, not
// set unless that condition holds.
var settingsNotSet = [
  {
    name: 'AZURE_CLIENT_ID'
    reason: 'With its system-assigned identity (the default) the Function needs none: DefaultAzureCredential uses that identity, and a client ID would select a user-assigned one instead (or, with a secret, a service principal).'
    setWhen: 'useUserAssignedIdentity'
  }
  {
    name: 'AZURE_CLIENT_SECRET'
    reason: 'No client secret exists in Azure: the managed identity replaces the admin service principal, which is for local runs only.'
  }
  {
    name: 'WATCHDOG_STATE_DIR'
    reason: 'State lives in the Table service of AzureWebJobsStorage; the file store is for the CLI on a laptop, and Flex Consumption instances have no shared, durable disk.'
  }
]

var webhookUrl = empty(webhookPublicUrl) ? 'https://${functionApp.properties.defaultHostName}/api/nylas/webhook' : webhookPublicUrl

var platformSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  // Application Insights has local auth disabled: send telemetry with the managed identity
  // (a user-assigned one is named by its client id, or the system one would be tried).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: useUserAssignedIdentity ? 'ClientId=${userAssignedIdentityClientId};Authorization=AAD' : 'Authorization=AAD'
}

// AzureWebJobsStorage: the host's storage, and the watchdog's state store (Table service).
var identityStorageSettings = union(
  {
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
  },
  useUserAssignedIdentity ? {
    AzureWebJobsStorage__clientId: userAssignedIdentityClientId
  } : {}
)
var connectionStringStorageSettings = {
  AzureWebJobsStorage: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/AzureWebJobsStorage/)'
}
var storageSettings = stateStorageAuth == 'identity' ? identityStorageSettings : connectionStringStorageSettings

var watchdogSettings = {
  NYLAS_API_KEY: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/NYLAS-API-KEY/)'
  NYLAS_API_URI: nylasApiUri
  WEBHOOK_PUBLIC_URL: webhookUrl
  // The managed identity only gets tokens from its own tenant, so the app registration must
  // live in the subscription's tenant.
  AZURE_TENANT_ID: tenant().tenantId
  AZURE_AUTHORITY_HOST: azureAuthorityHost
  GRAPH_ENDPOINT: graphEndpoint
  ROTATION: rotation
  ROTATE_BEFORE_DAYS: rotateBeforeDays
  SECRET_LIFETIME_DAYS: secretLifetimeDays
  RETIRE_GRACE_HOURS: retireGraceHours
  RETIRE_QUIET_HOURS: retireQuietHours
  REAUTH_DEFER_HOURS: reauthDeferHours
  SWITCH_MARGIN_MINUTES: switchMarginMinutes
  ALERT_BEFORE_DAYS: alertBeforeDays
  PROPAGATION_TIMEOUT_SECONDS: propagationTimeoutSeconds
  PAGERDUTY_EVENTS_URL: pagerdutyEventsUrl
  ALERT_REPEAT_HOURS: alertRepeatHours
  PAGERDUTY_MIN_SEVERITY: pagerdutyMinSeverity
  WATCHDOG_SCHEDULE: watchdogSchedule
  GRANT_SWEEP_SCHEDULE: grantSweepSchedule
}

// Without NYLAS_WEBHOOK_SECRET the webhook endpoint refuses every POST (fail closed): the
// first deployment has none, because the Nylas webhook can only be registered once the
// endpoint answers its challenge (docs/deploy.md).
var optionalSettings = union(
  // The watchdog's DefaultAzureCredential passes it on as managedIdentityClientId
  // (lib/clients/credential.ts): without it, it would look for a system identity.
  useUserAssignedIdentity ? {
    AZURE_CLIENT_ID: userAssignedIdentityClientId
  } : {},
  empty(watchAppIds) ? {} : {
    WATCH_APP_IDS: watchAppIds
  },
  empty(nylasClientId) ? {} : {
    NYLAS_CLIENT_ID: nylasClientId
  },
  empty(reauthRedirectUri) ? {} : {
    REAUTH_REDIRECT_URI: reauthRedirectUri
  },
  hasNylasWebhookSecret ? {
    NYLAS_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/NYLAS-WEBHOOK-SECRET/)'
  } : {},
  hasAlertWebhookUrl ? {
    ALERT_WEBHOOK_URL: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/ALERT-WEBHOOK-URL/)'
  } : {},
  hasAlertWebhookSecret ? {
    ALERT_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/ALERT-WEBHOOK-SECRET/)'
  } : {},
  hasSlackWebhookUrl ? {
    SLACK_WEBHOOK_URL: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/SLACK-WEBHOOK-URL/)'
  } : {},
  hasTeamsWebhookUrl ? {
    TEAMS_WEBHOOK_URL: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/TEAMS-WEBHOOK-URL/)'
  } : {},
  hasPagerdutyRoutingKey ? {
    PAGERDUTY_ROUTING_KEY: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/PAGERDUTY-ROUTING-KEY/)'
  } : {}
)

// Versionless Key Vault references: App Service re-reads them at least every 24 h, on any
// configuration change, and on POST .../config/configreferences/appsettings/refresh
// (docs/deploy.md, "Rotating the Nylas webhook secret").
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(platformSettings, storageSettings, watchdogSettings, optionalSettings)
}

output webhookPublicUrl string = webhookUrl
output settingsNotSet array = settingsNotSet
