// Service Bus: the queues of the event pipeline.
//
//   events           task and lifecycle events, one session per task (tenant/task), so the
//                    events of a task are applied one at a time and in order (ProcessEvents)
//   deliveries       one message per (event, subscription), one session per subscription
//                    and task, so a subscription gets a task's notifications one at a
//                    time and in order; retries are new scheduled messages in the same
//                    session (DeliverWebhooks)
//   nimbus-commands  commands to Nimbus core (OutboundCallRequested, TaskUpdated, ...)
//   scheduler        scheduler entries, as messages scheduled for their due time
//
// Standard is the smallest tier with sessions, duplicate detection and scheduled messages.
// Local (SAS key) authentication is off: the app reaches the namespace with its managed
// identity only, through the two data roles below.
//
// Every queue detects duplicates by message ID, so a send repeated after a crash or a timeout
// (ingest, fan-out, a retry) is stored once. requiresSession and requiresDuplicateDetection
// cannot be changed on an existing queue: changing them means deleting the queue.

@description('Namespace name: 6 to 50 letters, digits and hyphens, globally unique.')
@minLength(6)
@maxLength(50)
param name string

param location string
param tags object

@description('Principal ID of the managed identity that sends and receives.')
param principalId string

// How long a sent message ID is remembered for duplicate detection.
var duplicateWindow = 'PT10M'

// maxDeliveryCount is high on the queues the app consumes. The Functions host abandons the
// message of a failed invocation and the broker hands it out again at once (on a session
// queue, ahead of the rest of its session), so the count, not time, decides when a message
// lands in the dead-letter queue; 50 leaves room for an outage of storage or of the app.
// Webhook retries do not count here: the delivery handler schedules them as new messages.
var queues = [
  {
    name: 'events'
    requiresSession: true
    maxDeliveryCount: 50
  }
  {
    name: 'deliveries'
    requiresSession: true
    maxDeliveryCount: 50
  }
  {
    name: 'nimbus-commands'
    requiresSession: false
    maxDeliveryCount: 10 // Nimbus core consumes it; the Service Bus default
  }
  {
    name: 'scheduler'
    requiresSession: false
    maxDeliveryCount: 50
  }
]

// Built-in role definition IDs (the same in every Azure tenant).
var dataRoles = [
  {
    name: 'Azure Service Bus Data Sender'
    id: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  }
  {
    name: 'Azure Service Bus Data Receiver'
    id: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  }
]

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for q in queues: {
    parent: namespace
    name: q.name
    properties: {
      requiresSession: q.requiresSession
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateWindow
      maxDeliveryCount: q.maxDeliveryCount
      // Longer than one invocation normally takes; the host renews the lock while it runs.
      lockDuration: 'PT1M'
      // No time to live is set (messages never expire); should one be set later, expired
      // messages go to the dead-letter queue instead of vanishing.
      deadLetteringOnMessageExpiration: true
      // The largest size a Standard queue can have, so a long callback outage fills the
      // deliveries queue later.
      maxSizeInMegabytes: 5120
    }
  }
]

// Namespace scope: the app sends to and receives from every queue above.
resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in dataRoles: {
    name: guid(namespace.id, principalId, role.id)
    scope: namespace
    properties: {
      description: '${role.name} for the Nimbus Flow app identity'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.id)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The host of the endpoint ('https://NAME.servicebus.windows.net:443/'), not a hard-coded
// domain, so that sovereign clouds work too.
var endpointHost = split(split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), '/')[0], ':')[0]

@description('Fully qualified namespace, e.g. sb-x.servicebus.windows.net.')
output fullyQualifiedNamespace string = endpointHost

@description('Name of the namespace.')
output name string = namespace.name
