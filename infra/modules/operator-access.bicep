// What a person or a pipeline needs to drive promote from the command line against Azure
// (`promote apply`, `promote status`, `promote history`, `promote send`, `promote override`),
// each role at the narrowest scope:
//   Storage Table Data Contributor    application storage account  apply plans, read status and history
//   Storage Table Data Reader         application storage account  readOnly=true instead: people who only watch
//                                                                  (`promote status`, `history`, `deadletters`;
//                                                                  no apply, no send)
//   Azure Service Bus Data Sender     topic `promotion-events`     send events (sendsEvents=true only; never
//                                                                  with readOnly)
//   Key Vault Secrets Officer         promote's Key Vault          store the notification and webhook URLs that
//                                                                  app settings reference (storesSecrets=true
//                                                                  only; never with readOnly)
// Topic send rights go only to the senders of events (pipelines, migration tools): an override on the
// topic is rejected on Azure, because a topic message cannot prove who sent it. Operators send overrides
// through the function app's override endpoint with their Entra ID sign-in (`promote override` with
// PROMOTE_API_URL and PROMOTE_API_SCOPE). A pipeline that only reports test results needs the sender role
// alone: deploy this module with includeTables=false and sendsEvents=true for it.

@description('Object id of the user, group or service principal.')
param principalId string

@description('Kind of principal.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Also grant Storage Table Data Contributor on the application storage account (needed by promote apply/status/history).')
param includeTables bool = true

@description('Also grant Azure Service Bus Data Sender on the topic: for pipelines and migration tools that send events (never needed for overrides).')
param sendsEvents bool = false

@description('Also grant Key Vault Secrets Officer on promote\'s Key Vault: for whoever stores the notification and webhook URLs.')
param storesSecrets bool = false

@description('promote\'s Key Vault (output keyVaultName of main.bicep).')
param keyVaultName string

@description('Read only (people who only watch): Storage Table Data Reader instead of Contributor, and never the sender role.')
param readOnly bool = false

@description('Service Bus namespace name.')
param serviceBusNamespaceName string

@description('Topic name.')
param topicName string

@description('Application storage account (promote tables).')
param dataStorageAccountName string

var roles = {
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource sbNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' existing = {
  parent: sbNamespace
  name: topicName
}

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataStorageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource senderOnTopic 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (sendsEvents && !readOnly) {
  name: guid(topic.id, principalId, roles.serviceBusDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: principalId
    principalType: principalType
    description: 'promote event sender: send events to the promotion-events topic'
  }
}

resource tablesOnDataStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (includeTables && !readOnly) {
  name: guid(dataStorage.id, principalId, roles.storageTableDataContributor)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: principalType
    description: 'promote operator: apply plans, read status and history'
  }
}

resource readerOnDataStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (includeTables && readOnly) {
  name: guid(dataStorage.id, principalId, roles.storageTableDataReader)
  scope: dataStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: principalId
    principalType: principalType
    description: 'promote watcher: read status and history, change nothing'
  }
}

resource secretsOnVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (storesSecrets && !readOnly) {
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: principalType
    description: 'promote operator: store the notification and webhook URLs that app settings reference'
  }
}
