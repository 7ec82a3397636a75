// The Function App on Flex Consumption (Linux): Node 22, a managed identity (system-assigned,
// or the user-assigned one main.bicep passes when USE_USER_ASSIGNED_IDENTITY is true), HTTPS
// only, TLS >= 1.2, FTP and basic-auth publishing off. App settings are applied separately by
// app-settings.bicep, once the identity holds its roles.
param location string
param tags object
@description('Globally unique: the app is reachable at <name>.azurewebsites.net.')
param name string
param planName string
param storageAccountName string
param deploymentContainerName string
@description('Resource id of a user-assigned identity to run as; empty: a system-assigned identity.')
param userAssignedIdentityId string = ''

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// 40 is the lowest maximum Flex Consumption accepts. Concurrent runs are safe regardless:
// the rotation holds a lease in the state store ("two runs at once never rotate twice").
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

var userAssigned = !empty(userAssignedIdentityId)

// One identity only: with both, every consumer (Key Vault references, the deployment storage,
// the host's storage, DefaultAzureCredential) would have to be told which one to use, and any
// that was not would fall back to the system identity, which lacks the grants.
var siteIdentity = userAssigned ? {
  type: 'UserAssigned'
  userAssignedIdentities: {
    '${userAssignedIdentityId}': {}
  }
} : {
  type: 'SystemAssigned'
}

var deploymentStorageAuthentication = userAssigned ? {
  type: 'UserAssignedIdentity'
  userAssignedIdentityResourceId: userAssignedIdentityId
} : {
  type: 'SystemAssignedIdentity'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the target of `services.api` in azure.yaml by this tag.
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: siteIdentity
  properties: {
    serverFarmId: plan.id
    // Key Vault references resolve with the system identity unless told otherwise.
    keyVaultReferenceIdentity: userAssigned ? userAssignedIdentityId : 'SystemAssigned'
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: deploymentStorageAuthentication
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      // Flex Consumption takes the runtime from here; it rejects FUNCTIONS_WORKER_RUNTIME,
      // FUNCTIONS_EXTENSION_VERSION and WEBSITE_NODE_DEFAULT_VERSION app settings.
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// No FTP and no publishing passwords: azd deploys with the signed-in user's Entra token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output id string = functionApp.id
output defaultHostName string = functionApp.properties.defaultHostName
// The system-assigned identity's principal id is the object id of its service principal:
// the id Graph app-role assignments and app-registration ownership refer to. A site with
// only a user-assigned identity has none (main.bicep then reads the identity's own).
output principalId string = userAssigned ? '' : functionApp.identity.principalId
