// Storage for the app and for the Functions host: tables (address books, subscriptions,
// tasks, scheduler entries, directory), blobs (transcripts, the deployment package, host
// leases) and queues (used by the host itself).
//
// Shared keys are switched off, so the account can only be reached with Entra ID tokens; the
// managed identity gets data roles on this account and nothing wider.

@description('Storage account name: 3 to 24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags object

@description('Principal ID of the managed identity that the app runs as.')
param principalId string

@description('Days after which blobs under transcripts/ are deleted.')
@minValue(1)
param transcriptRetentionDays int

@description('Blob container that Flex Consumption deploys the app package from.')
param deploymentContainerName string = 'app-package'

// Built-in role definition IDs (the same in every Azure tenant).
var storageRoles = [
  {
    // AzureWebJobsStorage: host leases, keys and the deployment package; also transcripts.
    name: 'Storage Blob Data Owner'
    id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  }
  {
    // The app's stores and the host's own table use.
    name: 'Storage Table Data Contributor'
    id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  }
  {
    // The Functions host uses queues of AzureWebJobsStorage internally.
    name: 'Storage Queue Data Contributor'
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  }
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // No keys, no SAS signed with keys: Entra ID only.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource transcripts 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'transcripts'
  properties: {
    publicAccess: 'None'
  }
}

// Flex Consumption runs the app from the zip in this container; it must exist before the app.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Tables are created by the app on first use, so only the service is declared here.
resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// Transcripts are personal data: delete them after the retention period without any job in
// the app having to remember to.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-transcripts'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${transcripts.name}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: transcriptRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Names are deterministic (guid of scope, principal and role) so redeploying updates the same
// assignments instead of failing on duplicates.
resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(account.id, principalId, role.id)
    scope: account
    properties: {
      description: '${role.name} for the Nimbus Flow app identity'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.id)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The app writes, reads and deletes transcripts: Storage Blob Data Contributor on the
// transcripts container, the least it needs there, stated on its own so that it stays if the
// account-wide role of the host is ever narrowed.
resource transcriptsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(transcripts.id, principalId, 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
  scope: transcripts
  properties: {
    description: 'Storage Blob Data Contributor on transcripts for the Nimbus Flow app identity'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
