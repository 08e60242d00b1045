// Nimbus Flow: the whole Azure deployment of the connector backend.
//
// One resource group holds a user-assigned managed identity, a storage account, a Service
// Bus namespace, monitoring and a Flex Consumption function app that runs the Go custom
// handler. Nothing here creates or hands out a key: the storage account refuses shared keys,
// Service Bus and Application Insights refuse local (key) authentication, and the app reaches
// all three with the managed identity through role assignments. The deployment therefore has
// no secret to store, rotate or leak.
//
// Deploy with scripts/deploy.sh, or:
//   az deployment group create -g RG -f infra/main.bicep -p @infra/main.parameters.example.json

targetScope = 'resourceGroup'

@description('Azure region for every resource. The region must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Short prefix for resource names: lowercase letters and digits, 2 to 10 characters. A hash of the resource group keeps names unique.')
@minLength(2)
@maxLength(10)
param namePrefix string = 'nimbusflow'

@description('Token audiences the handler accepts: the Application ID URI and/or client ID of the app registration that protects the API (NIMBUS_AUTH_AUDIENCES).')
@minLength(1)
param authAudiences array

@description('OpenID Connect metadata document used to find the token signing keys (NIMBUS_AUTH_METADATA_URL).')
param authMetadataUrl string = 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration'

@description('Public https base URL of the API, used in trigger Location headers (NIMBUS_PUBLIC_BASE_URL). Leave empty to use the default host name of the function app.')
param publicBaseUrl string = ''

@description('Operator tenant ids whose app tokens act as Nimbus core and as operator of every tenant (NIMBUS_APP_TENANTS).')
param appTenants array = []

@description('Client app ids of the operator tenants that are trusted; empty trusts every app of those tenants (NIMBUS_APP_IDS).')
param appIds array = []

@description('Days after which the storage account deletes transcripts on its own (lifecycle rule): the longest transcriptRetentionDays any tenant may get. Tenants with a shorter setting are swept by the TranscriptRetention timer.')
@minValue(1)
param transcriptRetentionDays int = 30

@description('Most instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Tags applied to every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id, namePrefix)
var compactPrefix = toLower(replace(namePrefix, '-', ''))
var names = {
  identity: 'id-${namePrefix}-${suffix}'
  storage: take('st${compactPrefix}${suffix}', 24)
  workspace: 'log-${namePrefix}-${suffix}'
  appInsights: 'appi-${namePrefix}-${suffix}'
  plan: 'plan-${namePrefix}-${suffix}'
  app: 'func-${namePrefix}-${suffix}'
  serviceBus: 'sb-${namePrefix}-${suffix}'
}

// The one identity the app uses for everything. User-assigned rather than system-assigned so
// its client ID is known before the app exists: the app settings and role assignments below
// refer to it, and it survives if the app is recreated.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: tags
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    principalId: identity.properties.principalId
    transcriptRetentionDays: transcriptRetentionDays
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    tags: tags
    principalId: identity.properties.principalId
  }
}

// The event pipeline's queues. The app reaches them with the identity, on two settings:
// ServiceBusConnection for the host's Service Bus triggers (ProcessEvents, DeliverWebhooks),
// NIMBUS_SERVICEBUS for the handler's own sends (ingest, fan-out, retries, commands).
module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    principalId: identity.properties.principalId
  }
}

var serviceBusSettings = {
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identity.properties.clientId
  NIMBUS_SERVICEBUS__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  NIMBUS_SERVICEBUS__clientId: identity.properties.clientId
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    planName: names.plan
    appName: names.app
    location: location
    tags: tags
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    authAudiences: authAudiences
    authMetadataUrl: authMetadataUrl
    publicBaseUrl: publicBaseUrl
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    extraAppSettings: union(serviceBusSettings, {
      NIMBUS_APP_TENANTS: join(appTenants, ',')
      NIMBUS_APP_IDS: join(appIds, ',')
      // Transcripts (container transcripts) on the same account, through the identity.
      NIMBUS_STORAGE__blobServiceUri: storage.outputs.blobEndpoint
    })
  }
}

@description('Name of the function app; pass it to `az functionapp deployment source config-zip`.')
output appName string = functionApp.outputs.name

@description('Default host name of the function app.')
output defaultHostName string = functionApp.outputs.defaultHostName

@description('Base URL the connector calls: put it in the Endpoint URL of a connection.')
output publicBaseUrl string = functionApp.outputs.publicBaseUrl

@description('Client ID of the managed identity the app runs as.')
output identityClientId string = identity.properties.clientId

@description('Fully qualified Service Bus namespace of the event pipeline (NIMBUS_SERVICEBUS__fullyQualifiedNamespace).')
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
