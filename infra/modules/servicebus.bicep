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

@description('Standard, or Premium (the only tier with private endpoints; required with publicNetworkAccess Disabled).')
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Messaging units of a Premium namespace.')
@allowed([
  1
  2
  4
  8
  16
])
param premiumCapacity int = 1

@description('Public network access: Enabled (default) or Disabled (Premium with a private endpoint).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Time a message lives on the topic before it expires into the dead-letter queue (ISO 8601).')
param messageTimeToLive string = 'P14D'

resource sbNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: union({
    name: skuName
    tier: skuName
  }, (skuName == 'Premium') ? {
    capacity: premiumCapacity
  } : {})
  // Standard by default: private endpoints, customer-managed keys and double encryption need Premium
  // (skuName), which main.bicep picks when publicNetworkAccess is Disabled. On Standard the public
  // endpoint accepts only Entra ID tokens (disableLocalAuth) over TLS 1.2.
  properties: {
    // Entra ID only: no SAS keys, no connection strings anywhere.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: publicNetworkAccess
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
