// What the function app's managed identity may do, each role at the narrowest scope that works:
//
//   role                              scope                                  why
//   Azure Service Bus Data Receiver   topic subscription `orchestrator`      the `events` trigger (sessions) receives, completes,
//                                                                            dead-letters; topic triggers need the role to cover the
//                                                                            subscription resource, which this scope is exactly
//   Azure Service Bus Data Sender     topic `promotion-events`               schedules bake timers, republishes Azure Monitor alerts
//   Storage Table Data Contributor    application storage account            the promote tables (releases, routing, dead letters)
//   Storage Blob Data Owner           host storage account                   what Flex Consumption needs with identity-based host
//                                                                            storage: the platform reads the deployment package from
//                                                                            its container, the host keeps function keys (secrets),
//                                                                            timer schedule status and singleton leases in blobs of
//                                                                            AzureWebJobsStorage; it is the role the Functions docs
//                                                                            prescribe for AzureWebJobsStorage__accountName. The host
//                                                                            account holds none of promote's data, so this grants
//                                                                            nothing beyond the app's own runtime files
//   Monitoring Metrics Publisher      Application Insights component         Entra-authenticated telemetry (local auth is off)
//   Key Vault Secrets User            promote's Key Vault                    the platform resolves the Key Vault references in
//                                                                            app settings (notification and webhook URLs) with
//                                                                            the app's identity; read secrets, nothing else
//
// Optional (serviceBusScaleMetrics): Azure Service Bus Data Owner on the `orchestrator` subscription
// only, which lets the platform read the exact message count (runtime properties need Manage
// rights) for scale decisions. Without it, scaling estimates the backlog by peeking, which is
// enough for promote's low, session-ordered traffic.
//
// Routing rights (load balancers, application gateways, route tables, NSGs, Traffic Manager) live
// in the routing resource groups and are granted separately by routing-access.bicep.

@description('Object id of the function app system-assigned identity.')
param principalId string

@description('Service Bus namespace name.')
param serviceBusNamespaceName string

@description('Topic name.')
param topicName string

@description('Topic subscription the `events` function receives from.')
param subscriptionName string

@description('Host storage account (AzureWebJobsStorage, deployment container).')
param hostStorageAccountName string

@description('Application storage account (promote tables).')
param dataStorageAccountName string

@description('Application Insights component.')
param applicationInsightsName string

@description('promote\'s Key Vault (the secrets behind Key Vault references in app settings).')
param keyVaultName string

@description('Also grant Azure Service Bus Data Owner on the orchestrator subscription for exact scale metrics.')
param serviceBusScaleMetrics bool = false

var roles = {
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource sbNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' existing = {
  parent: sbNamespace
  name: topicName
}

resource orchestrator 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' existing = {
  parent: topic
  name: subscriptionName
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageAccountName
}

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataStorageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource receiverOnSubscription 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(orchestrator.id, principalId, roles.serviceBusDataReceiver)
  scope: orchestrator
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'promote: the events function receives from the orchestrator subscription'
  }
}

resource senderOnTopic 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, roles.serviceBusDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'promote: schedule bake timers and republish alerts on the promotion-events topic'
  }
}

resource ownerOnSubscription 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (serviceBusScaleMetrics) {
  name: guid(orchestrator.id, principalId, roles.serviceBusDataOwner)
  scope: orchestrator
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'promote: exact message counts of the orchestrator subscription for scaling'
  }
}

resource tablesOnDataStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataStorage.id, principalId, roles.storageTableDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'promote: read and write the promote tables'
  }
}

resource blobsOnHostStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, principalId, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'promote: Functions host storage (AzureWebJobsStorage) and Flex Consumption deployment container'
  }
}

resource metricsOnAppInsights 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'promote: Entra-authenticated Application Insights ingestion'
  }
}

resource secretsOnVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'promote: resolve the Key Vault references in app settings (notification and webhook URLs)'
  }
}
