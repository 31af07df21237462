// promote on Azure: everything the function app needs, in one resource group.
//
//   az group create -n rg-promote -l <region>
//   az deployment group create -g rg-promote -n promote \
//     --template-file infra/main.bicep --parameters @infra/main.parameters.example.json
//
// Routing rights are NOT granted here: they live in the workloads' routing resource groups and are
// granted by a separate deployment of modules/routing-access.bicep to each of them (docs/deploy.md).
//
// Resources: Log Analytics + Application Insights (Entra ingestion), two storage accounts (the
// Functions host's, the application's tables; both without shared keys), a Service Bus namespace
// (Standard, or Premium with private endpoints; no SAS) with the topic `promotion-events` and the
// session-enabled subscription `orchestrator`, a Key Vault (the secrets behind Key Vault references in
// app settings), a Flex Consumption plan and function app (Python, system-assigned identity) whose app
// settings survive a redeploy, the app identity's role assignments (modules/app-access.bicep), the
// alerts on dead-lettered messages and on `attention` (modules/alerts.bicep), and with
// publicNetworkAccess=Disabled, private endpoints for storage, Service Bus, Key Vault and the app.
//
// Checks before anything is created (modules/guard.json): authClientId is not the placeholder of the
// example parameters file, and a closed network comes with the subnets it needs.

targetScope = 'resourceGroup'

@description('Azure region for every resource (one that offers Flex Consumption: az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Short lowercase prefix of every resource name.')
@minLength(2)
@maxLength(10)
param namePrefix string = 'promote'

@description('Function app name; empty derives func-<namePrefix>-<unique suffix>. It is the <name>.azurewebsites.net host.')
param functionAppName string = ''

@description('Service Bus namespace name; empty derives sb-<namePrefix>-<unique suffix>.')
param serviceBusNamespaceName string = ''

@description('Python version of the function app (Azure Functions runs 3.11, 3.12 and 3.13; promote is tested on each).')
@allowed([
  '3.11'
  '3.12'
  '3.13'
])
param pythonVersion string = '3.11'

@description('Upper bound of function app instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per function app instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Resource Manager endpoint the routing providers use (PROMOTE_ARM_ENDPOINT); empty = public Azure. Sovereign clouds: az cloud show --query endpoints.resourceManager -o tsv')
param armEndpoint string = ''

@description('Spread the function app instances over availability zones (regions with zones; billed always-ready instances).')
param zoneRedundant bool = false

@description('Replication of the application storage account (the promote tables).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param dataStorageSku string = 'Standard_LRS'

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Grant the app Azure Service Bus Data Owner on the orchestrator subscription so the platform scales on exact message counts (default: peek-based estimate, least privilege).')
param serviceBusScaleMetrics bool = false

@description('People, groups or pipelines that run the promote CLI against this deployment: [{ principalId: \'<object id>\', principalType: \'User\' | \'Group\' | \'ServicePrincipal\', includeTables: true | false, sendsEvents: true | false, readOnly: true | false, storesSecrets: true | false }]. Each gets, unless includeTables is false, Storage Table Data Contributor on the application storage account (Storage Table Data Reader with readOnly: people who only watch), and, only if sendsEvents is true and readOnly is not (pipelines, migration tools), Azure Service Bus Data Sender on the topic, and with storesSecrets Key Vault Secrets Officer on promote\'s Key Vault. Operators send overrides through the override endpoint (Entra ID), never the topic.')
param operators array = []

@description('Client (application) id of the Entra ID app registration protecting the function app (App Service authentication); `promote override` asks for a token of api://<this id>/.default (PROMOTE_API_SCOPE).')
param authClientId string

@description('Public network access of storage, Service Bus, Key Vault and the function app: Enabled (default; Entra ID and RBAC are the gate) or Disabled, as landing-zone policies demand: private endpoints in privateEndpointSubnetId, the app integrated into appSubnetId, Service Bus Premium.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Resource id of the subnet for private endpoints (storage blob/queue/table, Service Bus, Key Vault, the app); required with publicNetworkAccess Disabled, empty: none.')
param privateEndpointSubnetId string = ''

@description('Resource id of a subnet delegated to Microsoft.App/environments, for the app\'s VNet integration (its way to the private endpoints); required with publicNetworkAccess Disabled.')
param appSubnetId string = ''

@description('Private DNS zone ids by group: { blob, queue, table, namespace, vault, sites } (privatelink.* zones); a group left out gets no zone group (landing zones usually register endpoints by policy).')
param privateDnsZoneIds object = {}

@description('Service Bus tier: Standard, or Premium (private endpoints; chosen whatever this says when publicNetworkAccess is Disabled).')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('App settings whose values are Key Vault references, { "<setting>": "@Microsoft.KeyVault(VaultName=<keyVaultName output>;SecretName=<secret>)" }: the URLs notifications and the webhook decommission provider read. Settings added to the app otherwise are kept on a redeploy too.')
param keyVaultSettings object = {}

@description('E-mail addresses that get the operations alerts (dead-lettered messages, attention); empty: none.')
param alertEmails array = []

@description('Resource ids of existing action groups that get the operations alerts too.')
param alertActionGroupIds array = []

@description('Tags for every resource.')
param tags object = {
  application: 'promote'
}

var token = uniqueString(resourceGroup().id)
var prefix = toLower(namePrefix)
var compactPrefix = take(replace(prefix, '-', ''), 8)
var appName = empty(functionAppName) ? 'func-${prefix}-${token}' : functionAppName
var sbName = empty(serviceBusNamespaceName) ? 'sb-${prefix}-${token}' : serviceBusNamespaceName
var hostStorageName = take('sth${compactPrefix}${token}', 24)
var dataStorageName = take('std${compactPrefix}${token}', 24)
var keyVaultName = take('kv${compactPrefix}${token}', 24)
var isPrivate = publicNetworkAccess == 'Disabled'
// The Flex Consumption deployment package container (3-63 characters).
var deploymentContainerName = 'app-package-${token}'

// The promote tables (shared/config.py RELEASES_TABLE, ROUTING_TABLE, DEADLETTER_TABLE, JUDGE_TABLE).
var promoteTables = [
  'promotereleases'
  'promoterouting'
  'promotedeadletters'
  'promotejudge'
]

// Fails the deployment, before anything is created, on the placeholder client id or a closed network
// without its subnets (ARM's fail(); see the module's description).
module authGuard 'modules/guard.json' = {
  name: 'promote-guard'
  params: {
    authClientId: authClientId
    publicNetworkAccess: publicNetworkAccess
    privateEndpointSubnetId: privateEndpointSubnetId
    appSubnetId: appSubnetId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'promote-monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${prefix}-${token}'
    applicationInsightsName: 'appi-${prefix}-${token}'
    retentionInDays: logRetentionInDays
  }
}

module hostStorage 'modules/storage.bicep' = {
  name: 'promote-host-storage'
  params: {
    name: hostStorageName
    location: location
    tags: tags
    containers: [
      deploymentContainerName
    ]
    publicNetworkAccess: publicNetworkAccess
  }
}

module dataStorage 'modules/storage.bicep' = {
  name: 'promote-data-storage'
  params: {
    name: dataStorageName
    location: location
    tags: tags
    skuName: dataStorageSku
    tables: promoteTables
    publicNetworkAccess: publicNetworkAccess
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'promote-servicebus'
  params: {
    name: sbName
    location: location
    tags: tags
    skuName: isPrivate ? 'Premium' : serviceBusSku
    publicNetworkAccess: publicNetworkAccess
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'promote-keyvault'
  params: {
    name: keyVaultName
    location: location
    tags: tags
    publicNetworkAccess: publicNetworkAccess
  }
}

// https://<account>.table.core.windows.net (no trailing slash)
var tablesEndpoint = endsWith(dataStorage.outputs.tableEndpoint, '/') ? substring(dataStorage.outputs.tableEndpoint, 0, length(dataStorage.outputs.tableEndpoint) - 1) : dataStorage.outputs.tableEndpoint

module functionApp 'modules/functionapp.bicep' = {
  name: 'promote-functionapp'
  params: {
    name: appName
    planName: 'plan-${prefix}-${token}'
    location: location
    tags: tags
    hostStorageAccountName: hostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    tablesEndpoint: tablesEndpoint
    armEndpoint: armEndpoint
    pythonVersion: pythonVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    zoneRedundant: zoneRedundant
    authClientId: authGuard.outputs.authClientId
    keyVaultSettings: keyVaultSettings
    publicNetworkAccess: publicNetworkAccess
    virtualNetworkSubnetId: appSubnetId
  }
}

// With publicNetworkAccess Disabled: one private endpoint per sub-resource the app and its users reach.
var privateEndpoints = isPrivate ? [
  {
    name: 'pe-${hostStorageName}-blob'
    targetId: resourceId('Microsoft.Storage/storageAccounts', hostStorageName)
    groupId: 'blob'
  }
  {
    name: 'pe-${hostStorageName}-queue'
    targetId: resourceId('Microsoft.Storage/storageAccounts', hostStorageName)
    groupId: 'queue'
  }
  {
    name: 'pe-${hostStorageName}-table'
    targetId: resourceId('Microsoft.Storage/storageAccounts', hostStorageName)
    groupId: 'table'
  }
  {
    name: 'pe-${dataStorageName}-table'
    targetId: resourceId('Microsoft.Storage/storageAccounts', dataStorageName)
    groupId: 'table'
  }
  {
    name: 'pe-${sbName}'
    targetId: resourceId('Microsoft.ServiceBus/namespaces', sbName)
    groupId: 'namespace'
  }
  {
    name: 'pe-${keyVaultName}'
    targetId: resourceId('Microsoft.KeyVault/vaults', keyVaultName)
    groupId: 'vault'
  }
  {
    name: 'pe-${appName}'
    targetId: resourceId('Microsoft.Web/sites', appName)
    groupId: 'sites'
  }
] : []

module privateEndpoint 'modules/private-endpoint.bicep' = [for endpoint in privateEndpoints: {
  name: endpoint.name
  dependsOn: [
    hostStorage
    dataStorage
    serviceBus
    keyVault
    functionApp
  ]
  params: {
    name: endpoint.name
    location: location
    tags: tags
    subnetId: privateEndpointSubnetId
    targetId: endpoint.targetId
    groupId: endpoint.groupId
    privateDnsZoneId: contains(privateDnsZoneIds, endpoint.groupId) ? privateDnsZoneIds[endpoint.groupId] : ''
  }
}]

module alerts 'modules/alerts.bicep' = {
  name: 'promote-alerts'
  params: {
    location: location
    tags: tags
    namePrefix: prefix
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    topicName: serviceBus.outputs.topicName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    alertEmails: alertEmails
    alertActionGroupIds: alertActionGroupIds
  }
}

module appAccess 'modules/app-access.bicep' = {
  name: 'promote-app-access'
  params: {
    principalId: functionApp.outputs.principalId
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    topicName: serviceBus.outputs.topicName
    subscriptionName: serviceBus.outputs.subscriptionName
    hostStorageAccountName: hostStorage.outputs.name
    dataStorageAccountName: dataStorage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    serviceBusScaleMetrics: serviceBusScaleMetrics
  }
}

module operatorAccess 'modules/operator-access.bicep' = [for (operator, i) in operators: {
  name: 'promote-operator-access-${i}'
  params: {
    principalId: operator.principalId
    principalType: contains(operator, 'principalType') ? operator.principalType : 'User'
    includeTables: contains(operator, 'includeTables') ? operator.includeTables : true
    sendsEvents: contains(operator, 'sendsEvents') ? operator.sendsEvents : false
    readOnly: contains(operator, 'readOnly') ? operator.readOnly : false
    storesSecrets: contains(operator, 'storesSecrets') ? operator.storesSecrets : false
    keyVaultName: keyVault.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    topicName: serviceBus.outputs.topicName
    dataStorageAccountName: dataStorage.outputs.name
  }
}]

// What the CLI and the guide need (az deployment group show -g <rg> -n promote --query properties.outputs).
output functionAppName string = functionApp.outputs.name
output functionAppHostName string = functionApp.outputs.defaultHostName
output functionAppPrincipalId string = functionApp.outputs.principalId
// The board (contract §12): behind the same App Service authentication as the override endpoint.
output boardUrl string = 'https://${functionApp.outputs.defaultHostName}/api/board/'
output alertsUrl string = 'https://${functionApp.outputs.defaultHostName}/api/alerts'
output serviceBusNamespaceName string = serviceBus.outputs.namespaceName
output serviceBusFullyQualifiedNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output topicName string = serviceBus.outputs.topicName
output topicResourceId string = serviceBus.outputs.topicId
output subscriptionName string = serviceBus.outputs.subscriptionName
output storageAccountName string = dataStorage.outputs.name
output storageAccountResourceId string = dataStorage.outputs.id
output tablesEndpoint string = tablesEndpoint
output tables array = promoteTables
output hostStorageAccountName string = hostStorage.outputs.name
output applicationInsightsName string = monitoring.outputs.applicationInsightsName
output keyVaultName string = keyVault.outputs.name
output keyVaultResourceId string = keyVault.outputs.id
output deadLetteredAlertName string = alerts.outputs.deadLetteredAlertName
output attentionAlertName string = alerts.outputs.attentionAlertName
output logAnalyticsWorkspaceId string = monitoring.outputs.logAnalyticsWorkspaceId
// The settings the promote CLI reads (shared/config.py), ready to export.
output PROMOTE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output PROMOTE_TABLES_ENDPOINT string = tablesEndpoint
output PROMOTE_API_URL string = 'https://${functionApp.outputs.defaultHostName}'
output PROMOTE_API_SCOPE string = 'api://${functionApp.outputs.authClientId}/.default'
