// One private endpoint: a private IP in the landing zone's subnet for one sub-resource of one resource
// (a storage account's blob/queue/table, the Service Bus namespace, the function app's sites, the Key Vault).
// DNS: landing zones usually register private endpoints in their central privatelink.* zones by policy
// (DeployIfNotExists); pass privateDnsZoneId to have this template add the zone group itself.

@description('Private endpoint name.')
param name string

@description('Azure region (the subnet\'s).')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Resource id of the subnet the private endpoint takes its address from.')
param subnetId string

@description('Resource id of the resource the endpoint connects to.')
param targetId string

@description('Sub-resource (group id): blob, queue, table, namespace, sites or vault.')
@allowed([
  'blob'
  'queue'
  'table'
  'namespace'
  'sites'
  'vault'
])
param groupId string

@description('Resource id of the privatelink.* private DNS zone for this group id; empty: DNS is left to the landing zone\'s policy.')
param privateDnsZoneId string = ''

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = if (!empty(privateDnsZoneId)) {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

output id string = endpoint.id
