/**
 * The settings whose values are credentials, as the tests hold them independently of the code:
 * Key Vault references in Azure (test/infra/settings-sync.test.ts), never echoed when a reference
 * is left unresolved (test/lib/config-key-vault.test.ts).
 */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  "NYLAS_API_KEY",
  "NYLAS_WEBHOOK_SECRET",
  "AZURE_CLIENT_SECRET",
  "ALERT_WEBHOOK_URL",
  "ALERT_WEBHOOK_SECRET",
  "SLACK_WEBHOOK_URL",
  "TEAMS_WEBHOOK_URL",
  "PAGERDUTY_ROUTING_KEY",
  "AzureWebJobsStorage",
]);
