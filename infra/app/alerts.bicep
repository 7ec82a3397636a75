// Azure Monitor watches the watchdog. The product pages on-call through its own sinks, but a
// watchdog that stopped running cannot page anyone about that, so the platform does:
//   1. a `secretWatchdog` or `grantSweep` execution failed;
//   2. no successful `secretWatchdog` pass for two schedule intervals (the timer stopped, the
//      app is down, or every pass fails before the host records it);
//   3. no successful `grantSweep` for two intervals.
// Function executions reach Application Insights as `requests` rows named after the function
// ("Monitor executions in Azure Functions", https://learn.microsoft.com/azure/azure-functions/functions-monitoring).
// The action group exists only when an e-mail address or a webhook URL is given; without one
// the rules still fire and show under Monitor > Alerts.
param location string
param tags object
param applicationInsightsName string
param namePrefix string

@description('MONITOR_ALERT_EMAIL: who Azure Monitor e-mails when the watchdog itself fails.')
param alertEmail string = ''

@description('MONITOR_ALERT_WEBHOOK_URL: where Azure Monitor posts (common alert schema).')
param alertWebhookUrl string = ''

@description('Twice the secretWatchdog interval, ISO 8601 (default schedule: every 6 hours).')
param watchdogStaleAfter string = 'PT12H'

@description('Twice the grantSweep interval, ISO 8601 (default schedule: every 30 minutes).')
param sweepStaleAfter string = 'PT1H'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var hasReceiver = !empty(alertEmail) || !empty(alertWebhookUrl)

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (hasReceiver) {
  name: '${namePrefix}-oncall'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'watchdog'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'email'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
    webhookReceivers: empty(alertWebhookUrl)
      ? []
      : [
          {
            name: 'webhook'
            serviceUri: alertWebhookUrl
            useCommonAlertSchema: true
          }
        ]
  }
}

var actions = hasReceiver
  ? {
      actionGroups: [
        actionGroup.id
      ]
    }
  : {}

var rules = [
  {
    name: 'failed-execution'
    displayName: 'secret-watchdog: a timer execution failed'
    description: 'A secretWatchdog or grantSweep execution failed. Run `watchdog doctor` as the deployed identity, or read the exception in Application Insights.'
    severity: 1
    frequency: 'PT15M'
    window: 'PT15M'
    query: 'requests | where name in ("secretWatchdog", "grantSweep") and success == false'
    operator: 'GreaterThan'
  }
  {
    name: 'watchdog-stale'
    displayName: 'secret-watchdog: no successful watch pass for two intervals'
    description: 'secretWatchdog has not finished successfully for two schedule intervals: secrets are not being watched or rotated. Check the Function App is running and GET /api/health.'
    severity: 1
    frequency: 'PT1H'
    window: watchdogStaleAfter
    query: 'requests | where name == "secretWatchdog" and success == true'
    operator: 'LessThan'
  }
  {
    name: 'sweep-stale'
    displayName: 'secret-watchdog: no successful grant sweep for two intervals'
    description: 'grantSweep has not finished successfully for two schedule intervals: invalid grants are not being noticed and pending alerts are not re-sent. Check GET /api/health.'
    severity: 2
    frequency: 'PT15M'
    window: sweepStaleAfter
    query: 'requests | where name == "grantSweep" and success == true'
    operator: 'LessThan'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: rule.operator
            // GreaterThan 0: any failure. LessThan 1: not one success in the window.
            threshold: rule.operator == 'GreaterThan' ? 0 : 1
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: actions
    }
  }
]

output ruleNames array = [for (rule, i) in rules: alertRules[i].name]
