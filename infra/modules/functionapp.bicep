// The Flex Consumption plan and the function app that runs the Go custom handler.
//
// Flex Consumption picks the language stack from functionAppConfig.runtime ('custom' for a
// custom handler), runs the zip it finds in the deployment container, and must not be given
// FUNCTIONS_WORKER_RUNTIME or WEBSITE_RUN_FROM_PACKAGE. Every connection setting below is
// identity-based (…__accountName, …__credential, …__clientId): the app holds no key.

param planName string
param appName string
param location string
param tags object

@description('Resource ID of the user-assigned identity the app runs as.')
param identityId string

@description('Client ID of that identity; identity-based settings name it explicitly because the app could carry more than one identity.')
param identityClientId string

param storageAccountName string

@description('URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string

param appInsightsConnectionString string
param authAudiences array
param authMetadataUrl string
param publicBaseUrl string
param maximumInstanceCount int
param instanceMemoryMB int

@description('More app settings from the other modules (Service Bus).')
param extraAppSettings object = {}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        // Exactly '1.0': an uncatalogued version is accepted here and fails at host start.
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

var effectiveBaseUrl = empty(publicBaseUrl) ? 'https://${app.properties.defaultHostName}' : publicBaseUrl

var coreSettings = {
  // Host storage (leases, timers, keys) through the identity.
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // The app's own tables and blobs, same account, same identity.
  NIMBUS_STORAGE__accountName: storageAccountName
  NIMBUS_STORAGE__clientId: identityClientId
  // Telemetry authenticated with Entra ID; the component refuses the key alone.
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  NIMBUS_AUTH_AUDIENCES: join(authAudiences, ',')
  NIMBUS_AUTH_METADATA_URL: authMetadataUrl
  NIMBUS_PUBLIC_BASE_URL: effectiveBaseUrl
}

// A separate resource so the settings can use the app's own default host name.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(coreSettings, extraAppSettings)
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output publicBaseUrl string = effectiveBaseUrl
