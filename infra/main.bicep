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

@description('Public https base URL of the API, used in trigger Location headers (NIMBUS_PUBLIC_BASE_URL); always set in Azure. Leave empty to use https:// and the default host name of the function app; set it when a custom domain or a gateway is in front.')
param publicBaseUrl string = ''

@description('Operator tenants (NIMBUS_APP_TENANTS): the Entra tenant ids whose app tokens may play Nimbus core (app role Nimbus.Core) and act as operator on every tenant (app role Nimbus.Admin). Usually the one tenant that holds the app registrations. App tokens from any other tenant never act beyond that tenant.')
@minLength(1)
param appTenants array

@description('Client ids of the apps that may use app roles (NIMBUS_APP_IDS), checked against the token\'s azp/appid: the Nimbus core client and your operator tooling. Empty: any app of an operator tenant that was granted the role.')
param appIds array = []

@description('Callback host patterns for flow triggers (NIMBUS_CALLBACK_ALLOWED_HOSTS), such as *.logic.azure.com or an exact host name. Empty keeps the built-in Power Platform and Logic Apps callback domains.')
param callbackAllowedHosts array = []

@description('Trust X-Forwarded-Host/X-Forwarded-Proto for absolute URLs (NIMBUS_TRUST_FORWARDED_HEADERS). Leave false: in Azure the public base URL is always set.')
param trustForwardedHeaders bool = false

@description('Application (client) ID of the admin console\'s app registration, a single-page application with the redirect URI https://<host>/console/ (NIMBUS_CONSOLE_CLIENT_ID). Empty turns Entra sign-in to the console off.')
param consoleClientId string = ''

@description('Entra authority the console signs users in with (NIMBUS_CONSOLE_AUTHORITY). organizations lets the tenant admins of every customer tenant sign in.')
param consoleAuthority string = 'https://login.microsoftonline.com/organizations'

@description('API scope the console asks for (NIMBUS_CONSOLE_SCOPE), such as api://nimbusflow.example.com/user_impersonation. Required with consoleClientId.')
param consoleScope string = ''

@description('Timeout of one webhook delivery attempt, as a Go duration such as 30s (NIMBUS_DELIVERY_TIMEOUT).')
param deliveryTimeout string = '30s'

@description('Most concurrent deliveries to one callback host (NIMBUS_CALLBACK_MAX_PER_HOST).')
@minValue(1)
param callbackMaxPerHost int = 64

@description('Most concurrent deliveries to one trigger subscription (NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION).')
@minValue(1)
param callbackMaxPerSubscription int = 4

@description('Delays before each delivery retry, comma-separated Go durations (NIMBUS_RETRY_SCHEDULE). Empty keeps 5s,30s,2m,10m,30m,1h,2h,4h,8h.')
param retrySchedule string = ''

@description('Most contacts per address book (NIMBUS_MAX_CONTACTS_PER_BOOK).')
@minValue(1)
param maxContactsPerBook int = 65000

@description('Most open external tasks per tenant (NIMBUS_MAX_OPEN_EXTERNAL_TASKS).')
@minValue(1)
param maxOpenExternalTasks int = 1000

@description('How often housekeeping runs: retention of terminated tasks and other clean-up (NIMBUS_HOUSEKEEPING_INTERVAL).')
param housekeepingInterval string = '1h'

@description('Added to a scheduler entry\'s attemptTimeoutInSeconds before an attempt without outcome counts as AttemptTimeout, as a Go duration (NIMBUS_SCHEDULER_TIMEOUT_GRACE).')
param schedulerTimeoutGrace string = '60s'

@description('Log level of the handler (NIMBUS_LOG_LEVEL).')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('Days after which the storage account deletes transcripts on its own (lifecycle rule): the longest transcriptRetentionDays any tenant may get. Tenants with a shorter setting are swept by the Housekeeping timer.')
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

// Every handler setting an operator chooses. The app settings are declared whole (see
// modules/functionapp.bicep), so a setting changed in the portal is replaced on the next
// deployment: change these parameters instead. An empty value means the handler's default.
var handlerSettings = {
  NIMBUS_APP_TENANTS: join(appTenants, ',')
  NIMBUS_APP_IDS: join(appIds, ',')
  NIMBUS_CALLBACK_ALLOWED_HOSTS: join(callbackAllowedHosts, ',')
  NIMBUS_TRUST_FORWARDED_HEADERS: trustForwardedHeaders ? 'true' : 'false'
  NIMBUS_CONSOLE_CLIENT_ID: consoleClientId
  NIMBUS_CONSOLE_AUTHORITY: consoleAuthority
  NIMBUS_CONSOLE_SCOPE: consoleScope
  NIMBUS_DELIVERY_TIMEOUT: deliveryTimeout
  NIMBUS_CALLBACK_MAX_PER_HOST: string(callbackMaxPerHost)
  NIMBUS_CALLBACK_MAX_PER_SUBSCRIPTION: string(callbackMaxPerSubscription)
  NIMBUS_RETRY_SCHEDULE: retrySchedule
  NIMBUS_MAX_CONTACTS_PER_BOOK: string(maxContactsPerBook)
  NIMBUS_MAX_OPEN_EXTERNAL_TASKS: string(maxOpenExternalTasks)
  NIMBUS_HOUSEKEEPING_INTERVAL: housekeepingInterval
  NIMBUS_LOG_LEVEL: logLevel
  NIMBUS_SCHEDULER_TIMEOUT_GRACE: schedulerTimeoutGrace
  // Transcripts (container transcripts) on the same account, through the identity.
  NIMBUS_STORAGE__blobServiceUri: storage.outputs.blobEndpoint
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
    extraAppSettings: union(serviceBusSettings, handlerSettings)
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

@description('Name of the HTTP function that receives Nimbus core\'s events (authLevel function): fetch its key with az functionapp function keys list.')
output ingestFunctionName string = 'Ingest'

@description('URL Nimbus core posts task events to, together with the Ingest function key and an app token.')
output ingestUrl string = '${functionApp.outputs.publicBaseUrl}/internal/v1/task-events'

@description('Base URL of the admin API in Azure (the Functions host reserves /admin).')
output adminBaseUrl string = '${functionApp.outputs.publicBaseUrl}/manage/v1'

@description('Fully qualified Service Bus namespace of the event pipeline (NIMBUS_SERVICEBUS__fullyQualifiedNamespace).')
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
