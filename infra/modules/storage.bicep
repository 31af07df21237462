// A storage account that only accepts Entra ID (no shared keys, no SAS), TLS 1.2+, HTTPS only,
// and never serves anonymous blobs. Used twice by main.bicep:
//   - the Functions host's account (AzureWebJobsStorage + the Flex Consumption deployment container);
//   - the application's account (the promote tables), so that table rights never reach the
//     host's blobs (function keys, deployment package) and vice versa.
//
// Network: publicNetworkAccess (main.bicep's parameter of the same name). 'Enabled' (default): the public
// endpoint answers, firewall default action Allow, and every request still needs an Entra token and an RBAC
// role; the promote CLI and CI reach the tables from outside Azure. 'Disabled', as landing-zone policies
// demand: no public endpoint, firewall default action Deny; main.bicep then adds private endpoints (blob,
// queue and table for the host's account, table for the promote tables) and integrates the app with a VNet.

@description('Storage account name (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Replication. ZRS keeps the data through the loss of a zone where the region has zones.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

@description('Blob containers to create (private).')
param containers array = []

@description('Tables to create.')
param tables array = []

@description('Days deleted blobs and containers can be restored.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int = 7

@description('Public network access: Enabled (default, see the note above) or Disabled (private endpoints only).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  //checkov:skip=CKV_AZURE_35:The firewall's default action follows the publicNetworkAccess parameter: Deny with 'Disabled' (private endpoints, as landing zones demand), Allow by default so that the promote CLI and CI reach the tables from outside Azure with an Entra token and an RBAC role (shared keys are disabled).
  //checkov:skip=CKV_AZURE_59:Public network access is the publicNetworkAccess parameter ('Disabled' with private endpoints, docs/deploy.md); the default keeps the endpoint for the CLI and CI, behind Entra ID and RBAC.
  //checkov:skip=CKV_AZURE_206:Replication is the skuName parameter (main.bicep dataStorageSku for the promote tables); LRS keeps a first deployment cheap, choose Standard_ZRS or Standard_GZRS for production release state and history. The host account only holds the deployment package and function keys, which a republish recreates.
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Entra ID only: Flex Consumption reaches AzureWebJobsStorage and its deployment container
    // with the app's managed identity, and the app reaches its tables the same way.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: (publicNetworkAccess == 'Disabled') ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containers: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource storageTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in tables: {
  parent: tableService
  name: table
}]

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
