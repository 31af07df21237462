// Routing rights for the promote function app, granted on ONE routing resource group.
//
// A separate deployment, run once per resource group that holds a workload's routing resources
// (the `resource_group` of a plan's `routing` and `revoke_access` sections), by someone allowed to
// create role assignments there (Owner or User Access Administrator on that resource group;
// networkRole=custom also creates a custom role definition, which needs
// Microsoft.Authorization/roleDefinitions/write there):
//
//   az deployment group create -g <routing-rg> -n promote-routing \
//     --template-file infra/modules/routing-access.bicep \
//     --parameters principalId=<functionAppPrincipalId output of main.bicep> networkRole=custom trafficManager=false
//
// networkRole
//   custom              (default) a custom role with only the actions the providers use:
//                       load-balancer        backend pool membership (IP-based pools join the VNet)
//                       application-gateway  the backend pool of a request routing rule (a gateway update
//                                            re-joins its subnet, public IP, WAF policy and identity)
//                       route-table          the next hop of one route
//                       revoke_access        one NSG security rule (and reading the group's other rules'
//                                            priorities)
//                       traffic-manager      the status and weight of endpoints (narrower than the built-in
//                                            Traffic Manager Contributor: no profile writes, no deletes)
//                       front-door           the enabled state and weight of Front Door origins
//   networkContributor  the built-in Network Contributor role (broader: everything in Microsoft.Network)
//   none                no network role (a resource group used only for Traffic Manager)
// trafficManager        also grant the built-in Traffic Manager Contributor (broader; the custom role already
//                       covers the traffic-manager provider)

@description('Object id of the function app system-assigned identity (output functionAppPrincipalId of main.bicep).')
param principalId string

@description('Kind of principal: the function app identity is a ServicePrincipal.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Network rights on this resource group: custom (least privilege), networkContributor, or none.')
@allowed([
  'custom'
  'networkContributor'
  'none'
])
param networkRole string = 'custom'

@description('Grant Traffic Manager Contributor on this resource group (routing provider traffic-manager).')
param trafficManager bool = false

var builtInRoles = {
  networkContributor: '4d97b98b-1d4f-4787-a291-c67834d212e7'
  trafficManagerContributor: 'a4b10055-b0c7-44c2-b00f-c7b5b3550cf7'
}

var routingActions = [
  // load-balancer: move addresses between the source and target sides of a backend pool
  // (the provider reads and PUTs the pool itself, not the whole load balancer)
  'Microsoft.Network/loadBalancers/read'
  'Microsoft.Network/loadBalancers/backendAddressPools/read'
  'Microsoft.Network/loadBalancers/backendAddressPools/write'
  'Microsoft.Network/virtualNetworks/read'
  'Microsoft.Network/virtualNetworks/joinLoadBalancer/action' // IP-based pool addresses name the virtual network
  // application-gateway: switch a request routing rule's backend pool
  'Microsoft.Network/applicationGateways/read'
  'Microsoft.Network/applicationGateways/write'
  'Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/join/action'
  'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
  // an application gateway PUT re-checks its subnet and public IP
  'Microsoft.Network/virtualNetworks/subnets/read'
  'Microsoft.Network/virtualNetworks/subnets/join/action'
  'Microsoft.Network/publicIPAddresses/read'
  'Microsoft.Network/publicIPAddresses/join/action'
  // route-table: change the next hop of one route (a PUT of the route, not of the table)
  'Microsoft.Network/routeTables/read'
  'Microsoft.Network/routeTables/routes/read'
  'Microsoft.Network/routeTables/routes/write'
  // revoke_access: create or update the deny rule for the migration team
  'Microsoft.Network/networkSecurityGroups/read'
  'Microsoft.Network/networkSecurityGroups/securityRules/read'
  'Microsoft.Network/networkSecurityGroups/securityRules/write'
  // polling the long-running operations above
  'Microsoft.Network/locations/operations/read'
  'Microsoft.Network/locations/operationResults/read'
  // traffic-manager: read the profile (every endpoint counts in the share), PATCH two endpoints
  'Microsoft.Network/trafficManagerProfiles/read'
  'Microsoft.Network/trafficManagerProfiles/externalEndpoints/write'
  'Microsoft.Network/trafficManagerProfiles/azureEndpoints/write'
  'Microsoft.Network/trafficManagerProfiles/nestedEndpoints/write'
  // front-door: list the origin group's origins (every enabled one counts), PATCH two origins, follow the operation
  'Microsoft.Cdn/profiles/read'
  'Microsoft.Cdn/profiles/originGroups/read'
  'Microsoft.Cdn/profiles/originGroups/origins/read'
  'Microsoft.Cdn/profiles/originGroups/origins/write'
  'Microsoft.Cdn/operationresults/read'
]

// Role definitions live at subscription level whatever the deployment scope; the canonical id is used below.
var customRoleGuid = guid(subscription().id, resourceGroup().id, 'promote-routing')

resource routingRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (networkRole == 'custom') {
  name: customRoleGuid
  properties: {
    roleName: 'promote routing (${resourceGroup().name}, ${subscription().subscriptionId})'
    description: 'promote: change the share of users routed to a migrated workload (load balancer pools, application gateway rules, routes, NSG rules, Traffic Manager endpoints, Front Door origins) in one resource group'
    type: 'CustomRole'
    permissions: [
      {
        actions: routingActions
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

var networkRoleDefinitionId = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', networkRole == 'custom' ? customRoleGuid : builtInRoles.networkContributor)

resource networkAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (networkRole != 'none') {
  name: guid(resourceGroup().id, principalId, 'promote-routing', networkRole)
  dependsOn: [
    routingRole
  ]
  properties: {
    roleDefinitionId: networkRoleDefinitionId
    principalId: principalId
    principalType: principalType
    description: 'promote: routing providers (load-balancer, application-gateway, route-table, traffic-manager, front-door) and revoke_access'
  }
}

resource trafficManagerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (trafficManager) {
  name: guid(resourceGroup().id, principalId, builtInRoles.trafficManagerContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoles.trafficManagerContributor)
    principalId: principalId
    principalType: principalType
    description: 'promote: routing provider traffic-manager (endpoint weights)'
  }
}

output networkRoleDefinitionId string = networkRole == 'none' ? '' : networkRoleDefinitionId
output routingActions array = networkRole == 'custom' ? routingActions : []
