// Operations: the two things that need a person, as Azure Monitor alerts on promote's own resources.
//
//   dead-lettered messages   Service Bus metric DeadletteredMessages (EntityName = the topic) above 0: a message
//                            the `events` function could not handle in maxDeliveryCount (10) deliveries sits in
//                            the orchestrator subscription's dead-letter queue and decided nothing.
//   attention                Application Insights traces the app writes when a workload needs a person's eye
//                            (contract §3 `attention`): a line that starts with attentionLogPrefix.
//
// Notifications go to alertEmails (an action group this module creates) and to alertActionGroupIds (a
// landing zone's central action groups). With neither, the alerts still fire and show in Azure Monitor.

@description('Azure region (of the log alert; metric alerts are global).')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Short lowercase prefix of the alert names.')
param namePrefix string

@description('Service Bus namespace name.')
param serviceBusNamespaceName string

@description('Topic whose subscription dead-letters (the metric\'s EntityName).')
param topicName string

@description('Application Insights component that receives the app\'s traces.')
param applicationInsightsName string

@description('The start of the trace line the app writes when a workload needs attention.')
param attentionLogPrefix string = 'promote attention: '

@description('E-mail addresses that get the alerts (an action group is created for them); empty: none.')
param alertEmails array = []

@description('Resource ids of existing action groups that get the alerts too.')
param alertActionGroupIds array = []

resource sbNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var emailGroupName = 'ag-${namePrefix}-ops'
var actionGroupIds = concat(alertActionGroupIds, empty(alertEmails) ? [] : [
  resourceId('Microsoft.Insights/actionGroups', emailGroupName)
])

resource emailGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmails)) {
  name: emailGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(namePrefix, 12)
    enabled: true
    emailReceivers: [for (email, i) in alertEmails: {
      name: 'email-${i}'
      emailAddress: email
      useCommonAlertSchema: true
    }]
  }
}

resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-lettered-messages'
  location: 'global'
  tags: tags
  dependsOn: [
    emailGroup
  ]
  properties: {
    description: 'promote: messages in the dead-letter queue of ${topicName}/orchestrator; the events function could not handle them (promote deadletters, Application Insights exceptions).'
    severity: 1
    enabled: true
    scopes: [
      sbNamespace.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'deadLettered'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                topicName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [for id in actionGroupIds: {
      actionGroupId: id
    }]
  }
}

resource attention 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-attention'
  location: location
  tags: tags
  dependsOn: [
    emailGroup
  ]
  properties: {
    displayName: 'promote: a workload needs attention'
    description: 'promote wrote a trace starting with "${attentionLogPrefix}": a workload is not where its release state suggests (promote status shows the attention list and why).'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: 'traces | where message startswith "${attentionLogPrefix}" | project timestamp, message'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: actionGroupIds
    }
  }
}

output deadLetteredAlertName string = deadLettered.name
output attentionAlertName string = attention.name
