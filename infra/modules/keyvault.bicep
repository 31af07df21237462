// The Key Vault of promote's secrets: the URLs that notifications (contract §11, `url_setting`) and the
// webhook decommission provider (§8) read from app settings. The app setting holds a Key Vault reference,
// @Microsoft.KeyVault(VaultName=<this vault>;SecretName=<secret>), never the URL itself; the platform resolves
// it with the app's identity, which holds Key Vault Secrets User here (app-access.bicep). Whoever stores the
// secrets needs Key Vault Secrets Officer (docs/deploy.md). RBAC only: no access policies.

@description('Key Vault name (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Public network access: Enabled (default; every request still needs Entra ID and an RBAC role) or Disabled (private endpoint only).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  //checkov:skip=CKV_AZURE_109:The firewall's default action follows the publicNetworkAccess parameter (Deny with 'Disabled', as landing zones demand); by default the operators who store secrets reach the vault from their machines, with Entra ID and the Key Vault Secrets Officer role.
  //checkov:skip=CKV_AZURE_189:Public network access is the publicNetworkAccess parameter ('Disabled' with a private endpoint, docs/deploy.md); the default lets operators store secrets from their machines, behind Entra ID and RBAC.
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: (publicNetworkAccess == 'Disabled') ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
