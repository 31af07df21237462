// Read rights for promote's health judge (contract §10), at the narrowest scope its checks need, in bulk: one
// deployment per resource group grants every right the judge needs there (never one command per VM).
// A separate deployment into that resource group, by someone allowed to create role assignments on it
// (Owner or User Access Administrator):
//
//   az deployment group create -g <rg> -n promote-monitor \
//     --template-file infra/modules/monitor-access.bicep \
//     --parameters principalId=<functionAppPrincipalId output of main.bicep> workspaceNames='["log-payroll"]' \
//                  metricsScope=resourceGroup
//
// per operation:
//   azure-monitor-logs checks     Log Analytics Reader on each workspace of workspaceNames (KQL on it; not its
//                                 resource group)
//   azure-monitor-metrics checks  Monitoring Reader, by metricsScope:
//                                   resourceGroup  on this resource group: the metrics of every resource in it (a
//                                                  wave's VMs, load balancers, gateways), one assignment
//                                   vms            on each virtual machine of metricsVmNames only
//                                   none           no metrics rights here
//
// Both roles only read: the judge can change no workspace, resource or setting.

@description('Object id of the function app system-assigned identity (output functionAppPrincipalId of main.bicep).')
param principalId string

@description('Kind of principal: the function app identity is a ServicePrincipal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Log Analytics workspaces (in this resource group) that azure-monitor-logs checks query.')
param workspaceNames array = []

@description('Where azure-monitor-metrics checks may read metrics: resourceGroup (every resource in it), vms (metricsVmNames), or none.')
@allowed([
  'resourceGroup'
  'vms'
  'none'
])
param metricsScope string = 'none'

@description('Virtual machines (in this resource group) whose metrics the checks read, with metricsScope vms.')
param metricsVmNames array = []

var builtInRoles = {
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
  monitoringReader: '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
}

resource workspaces 'Microsoft.OperationalInsights/workspaces@2022-10-01' existing = [for name in workspaceNames: {
  name: name
}]

resource vms 'Microsoft.Compute/virtualMachines@2024-07-01' existing = [for name in metricsVmNames: {
  name: name
}]

resource workspaceReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in workspaceNames: {
  name: guid(workspaces[i].id, principalId, builtInRoles.logAnalyticsReader)
  scope: workspaces[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.logAnalyticsReader)
    principalId: principalId
    principalType: principalType
    description: 'promote health judge: azure-monitor-logs checks (KQL on this workspace)'
  }
}]

// Read only, and on this one resource group: the metrics of a wave's resources in one assignment.
resource metricsOnResourceGroup 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (metricsScope == 'resourceGroup') {
  name: guid(resourceGroup().id, principalId, builtInRoles.monitoringReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.monitoringReader)
    principalId: principalId
    principalType: principalType
    description: 'promote health judge: azure-monitor-metrics checks on the resources of this resource group'
  }
}

resource metricsOnVm 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in metricsVmNames: if (metricsScope == 'vms') {
  name: guid(resourceGroup().id, principalId, builtInRoles.monitoringReader, name)
  scope: vms[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.monitoringReader)
    principalId: principalId
    principalType: principalType
    description: 'promote health judge: azure-monitor-metrics checks on this virtual machine'
  }
}]
