// App Service Authentication (Easy Auth) on the function app: the board's routes (/api/board/...) are
// served only to people signed in with Entra ID (contract §12); no anonymous access.
//   requireAuthentication: true       every request needs a signed-in principal ...
//   excludedPaths                     ... except the function-key endpoints that machines call
//                                     (Azure Monitor's alert webhook, scripts reading status)
//   unauthenticatedClientAction       browsers are sent to the Entra ID sign-in page
// Without boardClientId (an Entra ID app registration whose ID tokens the board accepts) no provider is
// enabled, so every board request is refused: the secure default until an app registration is given.
// The platform strips X-MS-CLIENT-PRINCIPAL from what clients send; functions/board.py also refuses
// any request that arrives without it.

@description('Name of the function app.')
param functionAppName string

@description('Client (application) id of the Entra ID app registration people sign in to the board with; empty refuses everyone.')
param boardClientId string = ''

@description('Paths that keep their function-key authorization instead of a sign-in (machine callers).')
param excludedPaths array = [
  '/api/alerts'
  '/api/releases'
]

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// Checkov reads every Microsoft.Web/sites/config as the site web configuration: the skips below are checks
// of the site itself, which functionapp.bicep declares and checkov checks there.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  //checkov:skip=CKV_AZURE_13:This resource IS the App Service Authentication of the site (authsettingsV2, requireAuthentication true), checkov mistakes it for the site web config.
  //checkov:skip=CKV_AZURE_66:HTTP logging is a setting of the site web config, not of authsettingsV2, the site sends its logs to Application Insights.
  //checkov:skip=CKV_AZURE_63:Failed request tracing is a setting of the site web config, not of authsettingsV2 (this resource only configures sign-in).
  //checkov:skip=CKV_AZURE_65:Detailed error messages are a setting of the site web config, not of authsettingsV2 (this resource only configures sign-in).
  properties: {
    //checkov:skip=CKV_AZURE_80:The .NET framework version does not apply: a Python function app, and not a property of authsettingsV2.
    //checkov:skip=CKV_AZURE_88:Azure Files storage mounts are a property of the site, not of authsettingsV2 (this resource only configures sign-in).
    //checkov:skip=CKV_AZURE_222:Public network access is a property of the site (checked there), this resource adds Entra ID sign-in in front of it.
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: excludedPaths
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: !empty(boardClientId)
        registration: {
          clientId: boardClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: empty(boardClientId) ? [] : [
            'api://${boardClientId}'
            boardClientId
          ]
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

output boardUrl string = 'https://${site.properties.defaultHostName}/api/board/'
