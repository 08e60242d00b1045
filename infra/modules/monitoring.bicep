// Logs and telemetry: a Log Analytics workspace and a workspace-based Application Insights
// component.
//
// Local authentication is disabled on the component, so the connection string (which carries
// only an instrumentation key) is not enough to send telemetry: the app authenticates with its
// managed identity, which needs Monitoring Metrics Publisher on the component.

param workspaceName string
param appInsightsName string
param location string
param tags object

@description('Principal ID of the managed identity that sends telemetry.')
param principalId string

@description('Days to keep logs in the workspace.')
@minValue(30)
param retentionInDays int = 30

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    description: 'Monitoring Metrics Publisher for the Nimbus Flow app identity'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output connectionString string = appInsights.properties.ConnectionString
