// Service Bus: the transport of promote on Azure.
// The topic and subscription names are fixed by the code (shared/config.py TOPIC and SUBSCRIPTION,
// the `events` function's trigger); tests/infra/test_infra.py checks they agree.
// One session per release (session id = release name) keeps a release's messages in order and
// handled one at a time; messages that fail maxDeliveryCount times are dead-lettered, never dropped.

@description('Namespace name (6-50 characters, globally unique).')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Time a message lives on the topic before it expires into the dead-letter queue (ISO 8601).')
param messageTimeToLive string = 'P14D'

resource sbNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  // Standard, not Premium: private endpoints, customer-managed keys and double encryption need
  // Premium. On Standard the public endpoint accepts only Entra ID tokens (disableLocalAuth) over
  // TLS 1.2, and the promote CLI and CI publish from outside Azure anyway.
  properties: {
    // Entra ID only: no SAS keys, no connection strings anywhere.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: sbNamespace
  name: 'promotion-events'
  properties: {
    defaultMessageTimeToLive: messageTimeToLive
    maxSizeInMegabytes: 1024
    enableBatchedOperations: true
    supportOrdering: true
    enablePartitioning: false
    // promote de-duplicates by CloudEvents id itself (a marker row per id, forever, per release),
    // so the broker's time-windowed duplicate detection is left off.
    requiresDuplicateDetection: false
  }
}

resource orchestrator 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: topic
  name: 'orchestrator'
  properties: {
    requiresSession: true
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    deadLetteringOnFilterEvaluationExceptions: true
    defaultMessageTimeToLive: messageTimeToLive
    enableBatchedOperations: true
  }
}

output namespaceName string = sbNamespace.name
output namespaceId string = sbNamespace.id
// <name>.servicebus.windows.net (or the sovereign-cloud suffix): the host of serviceBusEndpoint.
output fullyQualifiedNamespace string = split(split(split(sbNamespace.properties.serviceBusEndpoint, '//')[1], '/')[0], ':')[0]
output topicName string = topic.name
output topicId string = topic.id
output subscriptionName string = orchestrator.name
output subscriptionResourceId string = orchestrator.id
