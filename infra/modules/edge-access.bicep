// Rights for the edge routing providers (contract §17), granted on the DNS zones and firewall policies of ONE
// resource group, each resource named: dns, private-dns (record sets) and azure-firewall (rule collection groups).
//
// A separate deployment, like routing-access.bicep, run once per resource group that holds such a zone or policy,
// by someone allowed to create role assignments there (Owner or User Access Administrator; the custom roles also
// need Microsoft.Authorization/roleDefinitions/write there):
//
//   az deployment group create -g <dns-or-hub-rg> -n promote-edge \
//     --template-file infra/modules/edge-access.bicep \
//     --parameters principalId=<functionAppPrincipalId output of main.bicep> \
//                  privateDnsZoneNames='["corp.contoso.com"]' dnsZoneNames='[]' firewallPolicyNames='["fw-pol"]'
//
// `promote apply` lowers the TTL of a record (lower_ttl_to) with the identity of whoever runs it: grant them the
// DNS role as well (principalType=User or Group, firewallPolicyNames='[]').
//
// dns role       read a zone and read/write its A, AAAA and CNAME record sets (promote switches values and the
//                TTL, and keeps the original TTL in the record set's metadata); no zone writes, no deletes,
//                no other record types. Narrower than DNS Zone Contributor / Private DNS Zone Contributor.
// firewall role  read a firewall policy (its provisioning state) and read/write its rule collection groups, and
//                follow the operation; no policy writes, no deletes (the AZFM "rule collection group author" of
//                Azure Firewall's rule hierarchy guide, without its */read). Rules that name IP groups are
//                read back with them: ipGroups/read.

@description('Object id of the identity to grant: the function app (output functionAppPrincipalId of main.bicep), or whoever runs promote apply with lower_ttl_to.')
param principalId string

@description('Kind of principal: the function app identity is a ServicePrincipal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Private DNS zones in this resource group whose record sets promote switches (provider private-dns).')
param privateDnsZoneNames array = []

@description('Public DNS zones in this resource group whose record sets promote switches (provider dns).')
param dnsZoneNames array = []

@description('Firewall policies in this resource group whose rule collection groups promote changes (provider azure-firewall).')
param firewallPolicyNames array = []

var dnsActions = [
  'Microsoft.Network/privateDnsZones/read'
  'Microsoft.Network/privateDnsZones/A/read'
  'Microsoft.Network/privateDnsZones/A/write'
  'Microsoft.Network/privateDnsZones/AAAA/read'
  'Microsoft.Network/privateDnsZones/AAAA/write'
  'Microsoft.Network/privateDnsZones/CNAME/read'
  'Microsoft.Network/privateDnsZones/CNAME/write'
  'Microsoft.Network/dnsZones/read'
  'Microsoft.Network/dnsZones/A/read'
  'Microsoft.Network/dnsZones/A/write'
  'Microsoft.Network/dnsZones/AAAA/read'
  'Microsoft.Network/dnsZones/AAAA/write'
  'Microsoft.Network/dnsZones/CNAME/read'
  'Microsoft.Network/dnsZones/CNAME/write'
]

var firewallActions = [
  'Microsoft.Network/firewallPolicies/read'
  'Microsoft.Network/firewallPolicies/ruleCollectionGroups/read'
  'Microsoft.Network/firewallPolicies/ruleCollectionGroups/write'
  'Microsoft.Network/ipGroups/read'
  // polling the rule collection group's long-running operation
  'Microsoft.Network/locations/operations/read'
  'Microsoft.Network/locations/operationResults/read'
]

var dnsRoleGuid = guid(subscription().id, resourceGroup().id, 'promote-edge-dns')
var firewallRoleGuid = guid(subscription().id, resourceGroup().id, 'promote-edge-firewall')
var dnsZonesGiven = !empty(privateDnsZoneNames) || !empty(dnsZoneNames)

resource dnsRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (dnsZonesGiven) {
  name: dnsRoleGuid
  properties: {
    roleName: 'promote edge DNS records (${resourceGroup().name}, ${subscription().subscriptionId})'
    description: 'promote: switch the values and TTL of A, AAAA and CNAME record sets of DNS and Private DNS zones in one resource group'
    type: 'CustomRole'
    permissions: [
      {
        actions: dnsActions
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource firewallRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(firewallPolicyNames)) {
  name: firewallRoleGuid
  properties: {
    roleName: 'promote edge firewall rules (${resourceGroup().name}, ${subscription().subscriptionId})'
    description: 'promote: change the rule collection groups of Azure Firewall policies in one resource group'
    type: 'CustomRole'
    permissions: [
      {
        actions: firewallActions
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource privateZones 'Microsoft.Network/privateDnsZones@2024-06-01' existing = [for name in privateDnsZoneNames: {
  name: name
}]

resource publicZones 'Microsoft.Network/dnsZones@2018-05-01' existing = [for name in dnsZoneNames: {
  name: name
}]

resource policies 'Microsoft.Network/firewallPolicies@2024-05-01' existing = [for name in firewallPolicyNames: {
  name: name
}]

// One assignment per zone and per policy: the identity may change those and no other.
resource privateZoneAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in privateDnsZoneNames: {
  name: guid(resourceGroup().id, principalId, 'promote-edge-dns', 'private', name)
  scope: privateZones[i]
  dependsOn: [
    dnsRole
  ]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dnsRoleGuid)
    principalId: principalId
    principalType: principalType
    description: 'promote: routing provider private-dns (record values, TTL lowered at apply and restored at finalize)'
  }
}]

resource publicZoneAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in dnsZoneNames: {
  name: guid(resourceGroup().id, principalId, 'promote-edge-dns', 'public', name)
  scope: publicZones[i]
  dependsOn: [
    dnsRole
  ]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dnsRoleGuid)
    principalId: principalId
    principalType: principalType
    description: 'promote: routing provider dns (record values, TTL lowered at apply and restored at finalize)'
  }
}]

resource policyAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in firewallPolicyNames: {
  name: guid(resourceGroup().id, principalId, 'promote-edge-firewall', name)
  scope: policies[i]
  dependsOn: [
    firewallRole
  ]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', firewallRoleGuid)
    principalId: principalId
    principalType: principalType
    description: 'promote: routing provider azure-firewall (a DNAT rule and its network rules)'
  }
}]

output dnsActions array = dnsZonesGiven ? dnsActions : []
output firewallActions array = !empty(firewallPolicyNames) ? firewallActions : []
