// Rights for finishing a migration (contract v2 §8), granted on ONE resource group to the promote function app.
//
// A separate deployment, like routing-access.bicep, run by someone allowed to create role assignments there
// (Owner or User Access Administrator; decommission=custom also creates a custom role definition):
//
//   az deployment group create -g <source-vms-rg> -n promote-decommission \
//     --template-file infra/modules/finish-access.bicep \
//     --parameters principalId=<functionAppPrincipalId output of main.bicep> sourceVmNames='["vm-payroll-web-01"]'
//   az deployment group create -g <vault-rg> -n promote-replication \
//     --template-file infra/modules/finish-access.bicep \
//     --parameters principalId=<functionAppPrincipalId> decommission=none siteRecoveryVaultName=vault-migrate
//
// decommission   custom: a custom role with only what the azure-vm provider does to the source servers:
//                read each VM's instance view, power it off, deallocate it, and poll those operations;
//                assigned on each VM of sourceVmNames only. none: no decommission rights (the local and
//                webhook providers need none on Azure).
// siteRecoveryVaultName  the Site Recovery vault (of the Azure Migrate project) in this resource group; with
//                vaultRights:
//   read         the built-in Site Recovery Reader on that vault only: the replication timer lists its replication
//                protected items (read only).
//   migrate      a custom role on that vault only, for plans with `source: {provider: azure-migrate}` (§16): exactly
//                the requests promote sends (tests/infra/test_migrate_roles.py derives them from the adapters'
//                requests), one action per operation:
//                  vaults/replicationMigrationItems/read      list the vault's migration items: import, replicated,
//                                                             the lag (last recovery points), each operation's state
//                  .../replicationMigrationItems/testMigrate/action         `promote rehearse`: test migration
//                                                                            into the rehearsal network
//                  .../replicationMigrationItems/testMigrateCleanup/action  rehearsal clean-up (verdict, cleanup_after)
//                  .../replicationMigrationItems/migrate/action             the cutover (shutdown_source)
//                  .../replicationMigrationItems/delete                     finalize: complete the migration
//                                                                            (stops replication of that item)
//                  vaults/replicationJobs/read                a failed job's errors (the reason promote shows)
//                  vaults/replicationProtectedItems/read      the replication timer (plans with `replication`), as
//                                                             `read` grants it
//                Actions are sent with polling off (the item's states say how its job went), so no
//                replicationOperationStatus/read; no fabric or container reads (the vault-level list names each item).
//                No write of vault settings, policies or fabrics, no enabling of replication, no other vault.
//                The test and final VMs are created by the Site Recovery service with the target settings
//                chosen when replication was enabled.

@description('Object id of the function app system-assigned identity (output functionAppPrincipalId of main.bicep).')
param principalId string

@description('Kind of principal: the function app identity is a ServicePrincipal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Decommission rights on this resource group (the azure-vm provider\'s source_vms): custom or none.')
@allowed([
  'custom'
  'none'
])
param decommission string = 'custom'

@description('Names of the source virtual machines in this resource group (a plan\'s decommission.source_vms).')
param sourceVmNames array = []

@description('Grant rights on this Site Recovery vault (the vault named by a plan\'s replication or source section); empty: none.')
param siteRecoveryVaultName string = ''

@description('Rights on that vault: read (Site Recovery Reader: the replication timer) or migrate (custom role: rehearse, migrate, complete migration items, as well as read).')
@allowed([
  'read'
  'migrate'
])
param vaultRights string = 'read'

var siteRecoveryReader = 'dbaa88c4-0c30-4179-9fb3-46319faa6149' // built-in Site Recovery Reader (view only; not Operator)

var decommissionActions = [
  'Microsoft.Compute/virtualMachines/read'
  'Microsoft.Compute/virtualMachines/instanceView/read'
  'Microsoft.Compute/virtualMachines/powerOff/action'
  'Microsoft.Compute/virtualMachines/deallocate/action'
  'Microsoft.Compute/locations/operations/read'
]

var customRoleGuid = guid(subscription().id, resourceGroup().id, 'promote-decommission')

var migrationItems = 'Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationMigrationItems'
var migrationActions = [
  'Microsoft.RecoveryServices/vaults/replicationMigrationItems/read'
  '${migrationItems}/testMigrate/action'
  '${migrationItems}/testMigrateCleanup/action'
  '${migrationItems}/migrate/action'
  '${migrationItems}/delete'
  'Microsoft.RecoveryServices/vaults/replicationJobs/read'
  'Microsoft.RecoveryServices/vaults/replicationProtectedItems/read'
]
var migrationRoleGuid = guid(subscription().id, resourceGroup().id, 'promote-migration')
var migrate = !empty(siteRecoveryVaultName) && vaultRights == 'migrate'

resource decommissionRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (decommission == 'custom') {
  name: customRoleGuid
  properties: {
    roleName: 'promote decommission (${resourceGroup().name}, ${subscription().subscriptionId})'
    description: 'promote: power off and deallocate the source virtual machines of a finalized workload in one resource group'
    type: 'CustomRole'
    permissions: [
      {
        actions: decommissionActions
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource sourceVms 'Microsoft.Compute/virtualMachines@2024-07-01' existing = [for name in sourceVmNames: {
  name: name
}]

resource vault 'Microsoft.RecoveryServices/vaults@2024-04-01' existing = if (!empty(siteRecoveryVaultName)) {
  name: empty(siteRecoveryVaultName) ? 'none' : siteRecoveryVaultName
}

// One assignment per source VM: the identity may power off those servers and no other.
resource decommissionAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in sourceVmNames: if (decommission == 'custom') {
  name: guid(resourceGroup().id, principalId, 'promote-decommission', name)
  scope: sourceVms[i]
  dependsOn: [
    decommissionRole
  ]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', customRoleGuid)
    principalId: principalId
    principalType: principalType
    description: 'promote: decommission provider azure-vm (finalize)'
  }
}]

resource migrationRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (migrate) {
  name: migrationRoleGuid
  properties: {
    roleName: 'promote migration (${resourceGroup().name}, ${subscription().subscriptionId})'
    description: 'promote: rehearse, migrate and complete the Azure Migrate migration items of one Site Recovery vault, and read its replication state'
    type: 'CustomRole'
    permissions: [
      {
        actions: migrationActions
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource migrationAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (migrate) {
  name: guid(resourceGroup().id, principalId, 'promote-migration', siteRecoveryVaultName)
  scope: vault
  dependsOn: [
    migrationRole
  ]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', migrationRoleGuid)
    principalId: principalId
    principalType: principalType
    description: 'promote: Azure Migrate source provider (rehearsal, cutover, complete migration) and the replication timer'
  }
}

resource siteRecoveryAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(siteRecoveryVaultName) && vaultRights == 'read') {
  name: guid(resourceGroup().id, principalId, siteRecoveryReader, siteRecoveryVaultName)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', siteRecoveryReader)
    principalId: principalId
    principalType: principalType
    description: 'promote: the replication timer reads Site Recovery replication protected items'
  }
}

output decommissionActions array = decommission == 'custom' ? decommissionActions : []
output migrationActions array = migrate ? migrationActions : []
