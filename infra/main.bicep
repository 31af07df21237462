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
// (Standard, no SAS) with the topic `promotion-events` and the session-enabled subscription
// `orchestrator`, a Flex Consumption plan and function app (Python, system-assigned identity), and
// the app identity's role assignments (modules/app-access.bicep).

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

@description('Python version of the function app.')
@allowed([
  '3.11'
  '3.12'
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

@description('People, groups or pipelines that run the promote CLI against this deployment: [{ principalId: \'<object id>\', principalType: \'User\' | \'Group\' | \'ServicePrincipal\', includeTables: true | false, sendsEvents: true | false }]. Each gets, unless includeTables is false, Storage Table Data Contributor on the application storage account, and, only if sendsEvents is true (pipelines, migration tools), Azure Service Bus Data Sender on the topic. Operators send overrides through the override endpoint (Entra ID), never the topic.')
param operators array = []

@description('Client (application) id of the Entra ID app registration protecting the function app (App Service authentication); `promote override` asks for a token of api://<this id>/.default (PROMOTE_API_SCOPE).')
param authClientId string

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
// The Flex Consumption deployment package container (3-63 characters).
var deploymentContainerName = 'app-package-${token}'

// The promote tables (shared/config.py RELEASES_TABLE, ROUTING_TABLE, DEADLETTER_TABLE, JUDGE_TABLE).
var promoteTables = [
  'promotereleases'
  'promoterouting'
  'promotedeadletters'
  'promotejudge'
]

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
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'promote-servicebus'
  params: {
    name: sbName
    location: location
    tags: tags
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
    authClientId: authClientId
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
output logAnalyticsWorkspaceId string = monitoring.outputs.logAnalyticsWorkspaceId
// The settings the promote CLI reads (shared/config.py), ready to export.
output PROMOTE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output PROMOTE_TABLES_ENDPOINT string = tablesEndpoint
output PROMOTE_API_URL string = 'https://${functionApp.outputs.defaultHostName}'
output PROMOTE_API_SCOPE string = 'api://${authClientId}/.default'
