// The promote function app: Flex Consumption (FC1), Linux, Python, system-assigned identity.
// Every connection is identity-based; no key, SAS or connection string is placed in app settings:
//   AzureWebJobsStorage__accountName              the host's storage (blob), managed identity
//   functionAppConfig.deployment.storage          the deployment container, SystemAssignedIdentity
//   ServiceBusConnection__fullyQualifiedNamespace the `events` trigger's connection (ServiceBusConnection)
//   PROMOTE_SERVICEBUS_NAMESPACE                  publishing and scheduling bake timers (shared/config.py)
//   PROMOTE_TABLES_ENDPOINT                       the promote tables (shared/config.py)
//   PROMOTE_ARM_ENDPOINT                          Resource Manager endpoint; empty = public Azure
//   PROMOTE_MONITOR_LOGS_ENDPOINT                 the health judge's Log Analytics query API; empty = public Azure
//   PROMOTE_MONITOR_METRICS_ENDPOINT              the health judge's regional metrics API ({region}); empty = public
//   PROMOTE_SHARD_SIZE                            workloads per shard of a release created from now on (97)
//   APPLICATIONINSIGHTS_CONNECTION_STRING         telemetry: the app sets the Azure Monitor distro up from it (once:
//                                                 PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY is not set, so the
//                                                 worker does not set up a second exporter; the host exports logs)
//   APPLICATIONINSIGHTS_AUTHENTICATION_STRING     Authorization=AAD: Entra-authenticated ingestion (no local auth)
// PROMOTE_STORAGE_CONNECTION_STRING, PROMOTE_SERVICEBUS_CONNECTION_STRING and PROMOTE_HOME are for
// the local stack only and are deliberately absent. Flex Consumption sets the worker runtime and the
// Functions version itself (functionAppConfig.runtime); FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION and WEBSITE_RUN_FROM_PACKAGE must not be set on this plan.
//
// The app settings are a resource of their own (`appSettings`, sites/config 'appsettings'), not
// siteConfig.appSettings: a PUT of either replaces every setting, so a redeploy would drop the settings that
// notifications (`url_setting`) and the webhook decommission provider read, which operators add after the
// first deploy. `appSettings` writes the settings the app has now, then this template's over them, then the
// keyVaultSettings (Key Vault references): a redeploy keeps what it does not own.

@description('Function app name (globally unique: it is <name>.azurewebsites.net).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region (one where Flex Consumption is offered: az functionapp list-flexconsumption-locations).')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('The Functions host storage account (AzureWebJobsStorage and the deployment container).')
param hostStorageAccountName string

@description('Blob container in the host storage account that receives the deployment package.')
param deploymentContainerName string

@description('Application Insights component that receives the telemetry.')
param applicationInsightsName string

@description('Fully qualified Service Bus namespace, e.g. sb-promote-xyz.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Table service endpoint of the application storage account, e.g. https://stdpromotexyz.table.core.windows.net.')
param tablesEndpoint string

@description('Resource Manager endpoint for the routing providers; empty means public Azure.')
param armEndpoint string = ''

@description('Client (application) id of the Entra ID app registration that App Service authentication validates tokens for (the override endpoint; `promote override` asks for a token of api://<this id>/.default).')
param authClientId string

@description('Entra ID tenant that issues those tokens; default: the deployment\'s tenant.')
param authTenantId string = tenant().tenantId

@description('Token audiences App Service authentication accepts; empty: api://<authClientId> and the client id itself.')
param authAllowedAudiences array = []

@description('Log Analytics query endpoint for the health judge (e.g. https://api.loganalytics.azure.cn/v1); empty means public Azure.')
param monitorLogsEndpoint string = ''

@description('Regional metrics endpoint for the health judge, with {region}; empty means public Azure.')
param monitorMetricsEndpoint string = ''

@description('Python version of the Flex Consumption runtime (Azure Functions runs 3.11, 3.12 and 3.13).')
@allowed([
  '3.11'
  '3.12'
  '3.13'
])
param pythonVersion string = '3.11'

@description('App settings whose values are Key Vault references, {"<setting>": "@Microsoft.KeyVault(VaultName=<vault>;SecretName=<secret>)"}: the URLs that notifications and the webhook decommission provider read (a plan names the setting, never the URL).')
param keyVaultSettings object = {}

@description('Public network access to the app: Enabled (default) or Disabled (a private endpoint only; Azure Monitor action groups then cannot post to /api/alerts).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Resource id of a subnet delegated to Microsoft.App/environments for VNet integration (outbound traffic to private endpoints); empty: none.')
param virtualNetworkSubnetId string = ''

@description('Upper bound of instances the plan may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Spread instances over availability zones (regions with zones only; keeps at least two always-ready instances per function, which are billed).')
param zoneRedundant bool = false

@description('Memory per instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  //checkov:skip=CKV_AZURE_225:Zone redundancy is the zoneRedundant parameter: on Flex Consumption it needs a region with zones and keeps at least two billed always-ready instances per function, so it is off by default for a first deployment; turn it on for production where the region supports it.
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  //checkov:skip=CKV_AZURE_212:numberOfWorkers (a fixed instance count) does not exist on Flex Consumption, which scales each trigger from zero up to maximumInstanceCount and replaces failed instances itself.
  //checkov:skip=CKV_AZURE_17:Client certificates cannot be presented by the Azure Monitor action group webhook that posts to /api/alerts.
  //checkov:skip=CKV_AZURE_213:Health check (siteConfig.healthCheckPath) is not supported on the Flex Consumption plan; the platform replaces failed instances itself.
  //checkov:skip=CKV_AZURE_222:Public network access is the publicNetworkAccess parameter ('Disabled' with a private endpoint, as landing zones demand); by default the alerts endpoint stays reachable by Azure Monitor action groups, which post over the public internet, behind a function key and HTTPS/TLS 1.2.
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: publicNetworkAccess
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    clientCertEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// What this template owns (see the header); union() keeps every other setting the app has.
var promoteSettings = {
  AzureWebJobsStorage__accountName: hostStorage.name
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  PROMOTE_SERVICEBUS_NAMESPACE: serviceBusFullyQualifiedNamespace
  PROMOTE_TABLES_ENDPOINT: tablesEndpoint
  PROMOTE_ARM_ENDPOINT: armEndpoint
  PROMOTE_MONITOR_LOGS_ENDPOINT: monitorLogsEndpoint
  PROMOTE_MONITOR_METRICS_ENDPOINT: monitorMetricsEndpoint
  PROMOTE_SHARD_SIZE: '97'
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  //checkov:skip=CKV_AZURE_13:checkov applies its site checks to every sites/config resource; authentication is the authsettingsV2 resource below (Entra ID, Return401), not a setting of the appsettings config.
  //checkov:skip=CKV_AZURE_63:HTTP logging is a setting of the site web config, not of the appsettings config (checkov applies its web-config checks to every sites/config resource). Flex Consumption logs to Application Insights.
  //checkov:skip=CKV_AZURE_65:Detailed error messages are a setting of the site web config, not of the appsettings config (checkov applies its web-config checks to every sites/config resource).
  name: 'appsettings'
  //checkov:skip=CKV_AZURE_66:Failed request tracing is a setting of the site web config, not of the appsettings config (checkov applies its web-config checks to every sites/config resource).
  //checkov:skip=CKV_AZURE_80:The dotnet framework version is a setting of the site web config; it does not apply to a Python app, nor to the appsettings config.
  //checkov:skip=CKV_AZURE_88:Azure Files mounts are a setting of the site, not of the appsettings config; promote keeps its state in Table Storage and mounts no file share.
  //checkov:skip=CKV_AZURE_222:Public network access is a property of the site (the publicNetworkAccess parameter, skipped there with its reason), not of the appsettings config.
  properties: union(list('${site.id}/config/appsettings', '2024-04-01').properties, promoteSettings, keyVaultSettings)
}

// App Service authentication (Easy Auth) with Entra ID in front of every HTTP route: a call without a valid
// token for the app registration gets 401, an authenticated one reaches the function with
// X-MS-CLIENT-PRINCIPAL set by the platform (callers cannot set it). The override endpoint takes the actor
// from that principal. Excluded: /api/alerts (Azure Monitor action groups post the common alert schema with
// a function key, and cannot present an Entra ID token for this app) and the status route under /api/releases (read-only status,
// function key, as before). Bearer tokens only: no login flow, no token store, no client secret.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  //checkov:skip=CKV_AZURE_13:checkov reads every sites/config named authsettings* with the retired v1 schema (properties.enabled); this is authsettingsV2, where platform.enabled and globalValidation.requireAuthentication (Return401) turn authentication on, as tests/infra/test_infra_trust.py checks.
  //checkov:skip=CKV_AZURE_63:HTTP logging is a setting of the site web config, not of authsettingsV2; checkov applies its web-config checks to every sites/config resource. Flex Consumption logs to Application Insights.
  //checkov:skip=CKV_AZURE_65:Detailed error messages are a setting of the site web config, not of authsettingsV2 (checkov applies its web-config checks to every sites/config resource).
  name: 'authsettingsV2'
  //checkov:skip=CKV_AZURE_66:Failed request tracing is a setting of the site web config, not of authsettingsV2 (checkov applies its web-config checks to every sites/config resource).
  //checkov:skip=CKV_AZURE_80:The dotnet framework version is a setting of the site web config; it does not apply to a Python app, nor to authsettingsV2.
  //checkov:skip=CKV_AZURE_88:Azure Files mounts are a setting of the site, not of authsettingsV2; promote keeps its state in Table Storage and mounts no file share.
  //checkov:skip=CKV_AZURE_222:Public network access is a property of the site (skipped there with its reason: Azure Monitor action groups post to /api/alerts over the internet), not of authsettingsV2.
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/alerts'
        '/api/releases/*'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: empty(authAllowedAudiences) ? [
            'api://${authClientId}'
            authClientId
          ] : authAllowedAudiences
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

// No FTP and no basic-auth (user/password) publishing: deployments use Entra ID
// (`func azure functionapp publish` and `az functionapp deployment source config-zip` both do on Flex).
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output authClientId string = authClientId
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
output principalId string = site.identity.principalId
