// Key Vault in RBAC mode for every secret-bearing setting. The Function reads them through
// Key Vault references (app-settings.bicep) with its managed identity (Key Vault Secrets
// User, rbac.bicep); nothing secret is stored in the app settings themselves.
param location string
param tags object
@maxLength(24)
param name string

@secure()
@description('Key Vault secret name -> value. Empty values are skipped (the setting is then left unset).')
param secrets object

@description('The account behind AzureWebJobsStorage.')
param storageAccountName string

@description('true: also store a key-based connection string of that account as secret AzureWebJobsStorage (main.bicep stateStorageAuth = connectionString).')
param storeStorageConnectionString bool = false

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for item in items(secrets): if (!empty(item.value)) {
    parent: vault
    name: item.key
    properties: {
      value: item.value
    }
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource storageConnectionString 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (storeStorageConnectionString) {
  parent: vault
  name: 'AzureWebJobsStorage'
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  }
}

output name string = vault.name
@description('Ends with a slash: https://<name>.vault.azure.net/')
output uri string = vault.properties.vaultUri
