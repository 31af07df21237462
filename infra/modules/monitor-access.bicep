// Read rights for promote's health judge (contract §10), at the narrowest scope its checks need.
//
// azure-monitor-logs: Log Analytics Reader on the ONE workspace a check queries (not its resource group).
// A separate deployment, once per workspace, into the workspace's resource group, by someone allowed to
// create role assignments on it (Owner or User Access Administrator):
//
//   az deployment group create -g <workspace-rg> -n promote-monitor-<workspace> \
//     --template-file infra/modules/monitor-access.bicep \
//     --parameters principalId=<functionAppPrincipalId output of main.bicep> workspaceName=<workspace>
//
// azure-monitor-metrics: Monitoring Reader on the ONE resource a check reads. Bicep needs a resource's type
// at compile time, so this one is a command per resource (docs/health.md):
//
//   az role assignment create --role "Monitoring Reader" --assignee-object-id <principalId> \
//     --assignee-principal-type ServicePrincipal --scope <the check's resource id>
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

@description('The Log Analytics workspace (in this resource group) that azure-monitor-logs checks query.')
param workspaceName string

var builtInRoles = {
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2022-10-01' existing = {
  name: workspaceName
}

resource workspaceReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, builtInRoles.logAnalyticsReader)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.logAnalyticsReader)
    principalId: principalId
    principalType: principalType
    description: 'promote health judge: azure-monitor-logs checks (KQL on this workspace)'
  }
}
