// Rights for notifications (contract §11) to Event Grid: EventGrid Data Sender on each custom topic a plan's
// `notify` entries of type event-grid publish to, granted to the promote function app. promote publishes
// CloudEvents 1.0: each topic must have been created with inputSchema CloudEventSchemaV1_0 (the input schema
// cannot be changed later; a topic with another one answers every notification 400, which promote shows as
// `failed` at once). The output topicInputSchemas reads each topic's schema back: every one must say
// CloudEventSchemaV1_0 (docs/deploy.md, step 4). A separate deployment into the topics' resource group, like
// routing-access.bicep, by someone allowed to create role assignments there:
//
//   az deployment group create -g <topics-rg> -n promote-notify \
//     --template-file infra/modules/notify-access.bicep \
//     --parameters principalId=<functionAppPrincipalId output of main.bicep> topicNames='["egt-releases"]'
//
// EventGrid Data Sender only publishes events: it reads no event, manages no subscription, changes no topic.
// Teams and webhook notifications need no Azure role (their URLs are secrets in Key Vault, keyvault.bicep).

@description('Object id of the function app system-assigned identity (output functionAppPrincipalId of main.bicep).')
param principalId string

@description('Kind of principal: the function app identity is a ServicePrincipal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Names of the Event Grid custom topics (in this resource group) promote publishes notifications to.')
param topicNames array

var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7' // built-in EventGrid Data Sender

resource topics 'Microsoft.EventGrid/topics@2024-06-01-preview' existing = [for name in topicNames: {
  name: name
}]

// One assignment per topic: the identity may publish to those topics and no other.
resource senderOnTopic 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in topicNames: {
  name: guid(resourceGroup().id, principalId, eventGridDataSender, name)
  scope: topics[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSender)
    principalId: principalId
    principalType: principalType
    description: 'promote: publish release notifications (CloudEvents) to this Event Grid topic'
  }
}]

// The check of the schema: what each topic was created with (it must be CloudEventSchemaV1_0).
output topicInputSchemas array = [for (name, i) in topicNames: {
  name: name
  inputSchema: topics[i].properties.inputSchema
}]
